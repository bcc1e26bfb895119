package io.bypass.samples.pcap;

import java.util.Arrays;

/**
 * The UDP-over-IPv4 datagrams of a pcap or pcapng file, indexed for replay: timestamps,
 * addresses and payload positions in parallel arrays over the file's bytes, so the
 * replay loop reads arrays and allocates nothing.
 */
public final class Capture {
    private final byte[] data;
    private final String format;
    private int size;
    private long[] timestampNanos = new long[1024];
    private int[] payloadOffset = new int[1024];
    private int[] payloadLength = new int[1024];
    private int[] srcAddress = new int[1024];
    private int[] dstAddress = new int[1024];
    private int[] srcPort = new int[1024];
    private int[] dstPort = new int[1024];
    private long frames;
    private long skippedNotUdp;
    private long skippedFragment;
    private long skippedTruncated;
    private long skippedLinkType;
    private boolean truncatedFile;

    Capture(final byte[] data, final String format) {
        this.data = data;
        this.format = format;
    }

    void add(final long ts, final int off, final int len, final int src, final int dst, final int sport, final int dport) {
        if (size == timestampNanos.length) {
            final int n = size * 2;
            timestampNanos = Arrays.copyOf(timestampNanos, n);
            payloadOffset = Arrays.copyOf(payloadOffset, n);
            payloadLength = Arrays.copyOf(payloadLength, n);
            srcAddress = Arrays.copyOf(srcAddress, n);
            dstAddress = Arrays.copyOf(dstAddress, n);
            srcPort = Arrays.copyOf(srcPort, n);
            dstPort = Arrays.copyOf(dstPort, n);
        }
        timestampNanos[size] = ts;
        payloadOffset[size] = off;
        payloadLength[size] = len;
        srcAddress[size] = src;
        dstAddress[size] = dst;
        srcPort[size] = sport;
        dstPort[size] = dport;
        size++;
    }

    void countFrame() {
        frames++;
    }

    void skipNotUdp() {
        skippedNotUdp++;
    }

    void skipFragment() {
        skippedFragment++;
    }

    void skipTruncated() {
        skippedTruncated++;
    }

    void skipLinkType() {
        skippedLinkType++;
    }

    void markTruncatedFile() {
        truncatedFile = true;
    }

    /** @return the file's bytes; payloads are slices of it */
    public byte[] data() {
        return data;
    }

    /** @return e.g. {@code pcap (microseconds, little-endian)} or {@code pcapng} */
    public String format() {
        return format;
    }

    /** @return UDP datagrams found */
    public int size() {
        return size;
    }

    /**
     * @param i index
     * @return capture time in epoch nanoseconds
     */
    public long timestampNanos(final int i) {
        return timestampNanos[i];
    }

    /**
     * @param i index
     * @return payload offset in {@link #data()}
     */
    public int payloadOffset(final int i) {
        return payloadOffset[i];
    }

    /**
     * @param i index
     * @return payload length
     */
    public int payloadLength(final int i) {
        return payloadLength[i];
    }

    /**
     * @param i index
     * @return source IPv4 (big-endian int)
     */
    public int srcAddress(final int i) {
        return srcAddress[i];
    }

    /**
     * @param i index
     * @return destination IPv4 (big-endian int)
     */
    public int dstAddress(final int i) {
        return dstAddress[i];
    }

    /**
     * @param i index
     * @return source UDP port
     */
    public int srcPort(final int i) {
        return srcPort[i];
    }

    /**
     * @param i index
     * @return destination UDP port
     */
    public int dstPort(final int i) {
        return dstPort[i];
    }

    /** @return every frame or packet record read, UDP or not */
    public long frames() {
        return frames;
    }

    /** @return frames that are not UDP over IPv4 */
    public long skippedNotUdp() {
        return skippedNotUdp;
    }

    /** @return IPv4 fragments (not reassembled) */
    public long skippedFragment() {
        return skippedFragment;
    }

    /** @return frames cut short by the capture's snap length */
    public long skippedTruncated() {
        return skippedTruncated;
    }

    /** @return frames of link types the reader does not decode */
    public long skippedLinkType() {
        return skippedLinkType;
    }

    /** @return true if the file ended in the middle of a record (capture killed) */
    public boolean truncatedFile() {
        return truncatedFile;
    }
}
