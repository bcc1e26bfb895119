package io.bypass.spi;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Interns, at open, the string constants of classes on the hot path that Bypass cannot keep
 * free of them (jextract's generated bindings, Agrona's buffers), so that C2 compiling one of
 * their methods later allocates nothing on the polling thread.
 *
 * <p>Before C2 compiles a method, HotSpot resolves every {@code CONSTANT_String} of the
 * method's class on the requesting thread ({@code ConstantPool::resolve_string_constants});
 * a string already in the JVM's string table is found, not allocated. Bypass's own hot-path
 * classes hold no string constant at all ({@link HotPathErrors}). The interned strings are
 * kept here: the string table holds its entries weakly.
 */
public final class HotPathStrings {
    private static final Set<Class<?>> DONE = ConcurrentHashMap.newKeySet();
    private static final Set<String> KEPT = ConcurrentHashMap.newKeySet();

    private HotPathStrings() {
    }

    /**
     * Interns every string constant of each class, once per class per JVM. A class whose
     * class file cannot be read is skipped: this only moves a one-off cost, never fails an open.
     *
     * @param types classes whose methods the poll and send paths run
     */
    public static void intern(final Class<?>... types) {
        for (final Class<?> type : types) {
            if (DONE.add(type)) {
                try {
                    for (final String s : stringConstants(type)) {
                        KEPT.add(s.intern());
                    }
                } catch (final IllegalArgumentException unreadable) {
                    // not from a class file we can read: C2 will intern its strings itself, once
                }
            }
        }
    }

    /**
     * The string constants of a class: message literals and string-concatenation recipes alike.
     *
     * @param type a class loaded from a class file
     * @return the text of each {@code CONSTANT_String} entry of its constant pool, in pool order
     * @throws IllegalArgumentException if its class file cannot be read
     */
    public static List<String> stringConstants(final Class<?> type) {
        final String name = type.getName();
        try (InputStream in = type.getResourceAsStream(name.substring(name.lastIndexOf('.') + 1) + ".class")) {
            if (in == null) {
                throw new IllegalArgumentException("no class file for " + type);
            }
            return parse(new DataInputStream(in));
        } catch (final IOException e) {
            throw new IllegalArgumentException("cannot read the class file of " + type + ": " + e.getMessage(), e);
        }
    }

    private static List<String> parse(final DataInputStream in) throws IOException {
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readInt();                                                                // minor, major
        final int count = in.readUnsignedShort();
        final String[] utf8 = new String[count];
        final List<Integer> strings = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            final int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();                                    // Utf8
                case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();                    // 4-byte entries
                case 5, 6 -> {                                                       // Long, Double: two slots
                    in.readLong();
                    i++;
                }
                case 7, 16, 19, 20 -> in.readUnsignedShort();                        // Class, MethodType, Module, Package
                case 8 -> strings.add(in.readUnsignedShort());                       // String
                case 15 -> {                                                         // MethodHandle
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("constant pool tag " + tag + " at " + i);
            }
        }
        final List<String> out = new ArrayList<>(strings.size());
        for (final int index : strings) {
            out.add(utf8[index]);
        }
        return out;
    }
}
