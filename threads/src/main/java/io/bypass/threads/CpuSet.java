package io.bypass.threads;

import java.util.Arrays;

/**
 * An immutable set of CPU numbers (0 to {@link #MAX_CPUS} - 1), written and parsed in the
 * kernel's list form ({@code 0-3,7}), as in {@code Cpus_allowed_list} and
 * {@code /sys/devices/system/cpu/online}.
 */
public final class CpuSet {
    /** Largest CPU count a set covers: glibc's {@code CPU_SETSIZE}. */
    public static final int MAX_CPUS = 1024;
    private static final CpuSet EMPTY = new CpuSet(new long[MAX_CPUS / 64]);

    private final long[] bits;

    private CpuSet(final long[] bits) {
        this.bits = bits;
    }

    /** @return the empty set */
    public static CpuSet empty() {
        return EMPTY;
    }

    /**
     * @param cpus CPU numbers
     * @return the set of them
     * @throws IllegalArgumentException if one is outside 0..{@link #MAX_CPUS} - 1
     */
    public static CpuSet of(final int... cpus) {
        final long[] b = new long[MAX_CPUS / 64];
        for (final int cpu : cpus) {
            check(cpu);
            b[cpu >>> 6] |= 1L << cpu;
        }
        return new CpuSet(b);
    }

    /**
     * Parses the kernel's list form: {@code 0-3,7}, {@code 1}; blank is the empty set.
     *
     * @param list the list
     * @return the set
     * @throws IllegalArgumentException naming the bad part
     */
    public static CpuSet parse(final String list) {
        final long[] b = new long[MAX_CPUS / 64];
        final String s = list.strip();
        if (!s.isEmpty()) {
            for (final String part : s.split(",")) {
                final String p = part.strip();
                final int dash = p.indexOf('-');
                try {
                    final int lo = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).strip());
                    final int hi = dash < 0 ? lo : Integer.parseInt(p.substring(dash + 1).strip());
                    if (hi < lo) {
                        throw new IllegalArgumentException("CPU range '" + p + "' runs backwards");
                    }
                    check(lo);
                    check(hi);
                    for (int c = lo; c <= hi; c++) {
                        b[c >>> 6] |= 1L << c;
                    }
                } catch (final NumberFormatException e) {
                    throw new IllegalArgumentException("not a CPU list: '" + list + "' (expected e.g. 0-3,7)", e);
                }
            }
        }
        return new CpuSet(b);
    }

    static CpuSet fromWords(final long[] words) {
        return new CpuSet(words.clone());
    }

    long word(final int i) {
        return bits[i];
    }

    private static void check(final int cpu) {
        if (cpu < 0 || cpu >= MAX_CPUS) {
            throw new IllegalArgumentException("CPU " + cpu + " outside 0.." + (MAX_CPUS - 1));
        }
    }

    /**
     * @param cpu CPU number
     * @return true if the set holds it
     */
    public boolean contains(final int cpu) {
        return cpu >= 0 && cpu < MAX_CPUS && (bits[cpu >>> 6] & (1L << cpu)) != 0;
    }

    /**
     * @param other another set
     * @return the CPUs of this set that are not in {@code other}
     */
    public CpuSet minus(final CpuSet other) {
        final long[] b = new long[bits.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = bits[i] & ~other.bits[i];
        }
        return new CpuSet(b);
    }

    /**
     * @param other another set
     * @return true if the two sets share a CPU
     */
    public boolean intersects(final CpuSet other) {
        for (int i = 0; i < bits.length; i++) {
            if ((bits[i] & other.bits[i]) != 0) {
                return true;
            }
        }
        return false;
    }

    /** @return true if the set holds no CPU */
    public boolean isEmpty() {
        for (final long w : bits) {
            if (w != 0) {
                return false;
            }
        }
        return true;
    }

    /** @return how many CPUs the set holds */
    public int size() {
        int n = 0;
        for (final long w : bits) {
            n += Long.bitCount(w);
        }
        return n;
    }

    /** @return the CPU numbers, ascending */
    public int[] toArray() {
        final int[] a = new int[size()];
        int k = 0;
        for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
            if (contains(cpu)) {
                a[k++] = cpu;
            }
        }
        return a;
    }

    /** @return the highest CPU number, or -1 if empty */
    public int last() {
        for (int cpu = MAX_CPUS - 1; cpu >= 0; cpu--) {
            if (contains(cpu)) {
                return cpu;
            }
        }
        return -1;
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof CpuSet c && Arrays.equals(bits, c.bits);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bits);
    }

    /** @return the kernel's list form, {@code 0-3,7}; empty string for the empty set */
    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder();
        int cpu = 0;
        while (cpu < MAX_CPUS) {
            if (!contains(cpu)) {
                cpu++;
                continue;
            }
            int end = cpu;
            while (end + 1 < MAX_CPUS && contains(end + 1)) {
                end++;
            }
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(cpu);
            if (end > cpu) {
                sb.append('-').append(end);
            }
            cpu = end + 1;
        }
        return sb.toString();
    }
}
