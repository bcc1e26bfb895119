package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over a TCP segment (RFC 9293 section 3.1): the fixed header, its options (RFC 9293
 * MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK-permitted, NOP and EOL) and the
 * payload, read and written in place. {@link #parse()} checks the data offset and the options and
 * answers {@link #OK}, {@link #BAD_DATA_OFFSET} or {@link #BAD_OPTIONS}, so the caller counts a
 * malformed segment by its reason; nothing here throws for what a segment holds or allocates.
 *
 * <pre>{@code
 * Tcp tcp = new Tcp();
 * if (tcp.wrap(buffer, l4Offset, l4Length).parse() == Tcp.OK && tcp.isSyn()) {
 *     int mss = tcp.mss();                    // -1: the option was absent
 * }
 * }</pre>
 *
 * <p>Sequence numbers are unsigned 32-bit values kept in an {@code int}; compare them with
 * {@link #before(int, int)} (modulo 2^32, RFC 9293 section 3.4).
 */
public final class Tcp {
    /** Length of the header without options. */
    public static final int HEADER_LENGTH = 20;
    /** Longest header, options included (data offset 15). */
    public static final int MAX_HEADER_LENGTH = 60;

    /** Source port offset. */
    public static final int SOURCE_PORT_OFFSET = 0;
    /** Destination port offset. */
    public static final int DESTINATION_PORT_OFFSET = 2;
    /** Sequence number offset. */
    public static final int SEQUENCE_OFFSET = 4;
    /** Acknowledgement number offset. */
    public static final int ACK_OFFSET = 8;
    /** Data offset (high nibble) offset. */
    public static final int DATA_OFFSET_OFFSET = 12;
    /** Flags byte offset. */
    public static final int FLAGS_OFFSET = 13;
    /** Window offset. */
    public static final int WINDOW_OFFSET = 14;
    /** Checksum offset. */
    public static final int CHECKSUM_OFFSET = 16;
    /** Urgent pointer offset. */
    public static final int URGENT_OFFSET = 18;

    /** FIN flag. */
    public static final int FIN = 0x01;
    /** SYN flag. */
    public static final int SYN = 0x02;
    /** RST flag. */
    public static final int RST = 0x04;
    /** PSH flag. */
    public static final int PSH = 0x08;
    /** ACK flag. */
    public static final int ACK = 0x10;
    /** URG flag. */
    public static final int URG = 0x20;

    /** Option kind: end of option list. */
    public static final int OPTION_EOL = 0;
    /** Option kind: no operation (padding). */
    public static final int OPTION_NOP = 1;
    /** Option kind: maximum segment size, length 4. */
    public static final int OPTION_MSS = 2;
    /** Option kind: window scale, length 3. */
    public static final int OPTION_WINDOW_SCALE = 3;
    /** Option kind: SACK permitted, length 2. */
    public static final int OPTION_SACK_PERMITTED = 4;
    /** Option kind: SACK blocks. */
    public static final int OPTION_SACK = 5;
    /** Most SACK blocks an option can carry: 4 fill its 40 bytes with nothing else (RFC 2018 3). */
    public static final int MAX_SACK_BLOCKS = 4;
    /** Option kind: timestamps, length 10. */
    public static final int OPTION_TIMESTAMPS = 8;
    /** Largest window shift RFC 7323 allows. */
    public static final int MAX_WINDOW_SCALE = 14;

    /** {@link #parse()}: well formed. */
    public static final int OK = 0;
    /** {@link #parse()}: data offset below 5 or beyond the segment. */
    public static final int BAD_DATA_OFFSET = 1;
    /** {@link #parse()}: an option runs past the header or has an impossible length. */
    public static final int BAD_OPTIONS = 2;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;
    private int length;
    private int headerLength;
    private int mss;
    private int windowScale;
    private boolean sackPermitted;
    private boolean timestamps;
    private int timestampValue;
    private int timestampEcho;
    /** The SACK option's blocks, as received: left and right edges, {@link #sackBlocks()} pairs. */
    private final int[] sackEdges = new int[2 * MAX_SACK_BLOCKS];
    private int sackBlocks;

    /**
     * Points the flyweight at a received segment.
     *
     * @param buffer the frame
     * @param offset where the TCP header starts
     * @param length TCP header, options and payload (the IPv4 payload length)
     * @return this
     */
    public Tcp wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        this.headerLength = HEADER_LENGTH;
        return this;
    }

    /**
     * Points the flyweight at a segment being written.
     *
     * @param buffer the frame
     * @param offset where the TCP header starts
     * @param length TCP header, options and payload
     * @return this
     */
    public Tcp wrap(final MutableDirectBuffer buffer, final int offset, final int length) {
        wrap((DirectBuffer) buffer, offset, length);
        this.mutableBuffer = buffer;
        return this;
    }

    /**
     * Checks the data offset and reads the options. The segment must be at least
     * {@link #HEADER_LENGTH} bytes (the caller counts a shorter one as truncated).
     *
     * @return {@link #OK}, {@link #BAD_DATA_OFFSET} or {@link #BAD_OPTIONS}
     */
    public int parse() {
        mss = -1;
        windowScale = -1;
        sackPermitted = false;
        timestamps = false;
        sackBlocks = 0;
        final int h = (buffer.getByte(offset + DATA_OFFSET_OFFSET) & 0xF0) >>> 2;
        if (h < HEADER_LENGTH || h > length) {
            return BAD_DATA_OFFSET;
        }
        headerLength = h;
        final int end = offset + h;
        int p = offset + HEADER_LENGTH;
        while (p < end) {
            final int kind = buffer.getByte(p) & 0xFF;
            if (kind == OPTION_EOL) {
                break;
            }
            if (kind == OPTION_NOP) {
                p++;
                continue;
            }
            if (p + 1 >= end) {
                return BAD_OPTIONS;
            }
            final int len = buffer.getByte(p + 1) & 0xFF;
            if (len < 2 || p + len > end) {
                return BAD_OPTIONS;
            }
            if (kind == OPTION_MSS) {
                if (len != 4) {
                    return BAD_OPTIONS;
                }
                mss = buffer.getShort(p + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            } else if (kind == OPTION_WINDOW_SCALE) {
                if (len != 3) {
                    return BAD_OPTIONS;
                }
                // RFC 7323 2.3: a shift above 14 is used as 14
                windowScale = Math.min(MAX_WINDOW_SCALE, buffer.getByte(p + 2) & 0xFF);
            } else if (kind == OPTION_SACK_PERMITTED) {
                if (len != 2) {
                    return BAD_OPTIONS;
                }
                sackPermitted = true;
            } else if (kind == OPTION_SACK) {
                final int blocks = (len - 2) / 8;
                if (len != 2 + 8 * blocks || blocks == 0 || blocks > MAX_SACK_BLOCKS) {
                    return BAD_OPTIONS;
                }
                for (int k = 0; k < 2 * blocks; k++) {
                    sackEdges[k] = buffer.getInt(p + 2 + 4 * k, ByteOrder.BIG_ENDIAN);
                }
                sackBlocks = blocks;
            } else if (kind == OPTION_TIMESTAMPS) {
                if (len != 10) {
                    return BAD_OPTIONS;
                }
                timestamps = true;
                timestampValue = buffer.getInt(p + 2, ByteOrder.BIG_ENDIAN);
                timestampEcho = buffer.getInt(p + 6, ByteOrder.BIG_ENDIAN);
            }
            p += len;
        }
        return OK;
    }

    /** @return the wrapped buffer */
    public DirectBuffer buffer() {
        return buffer;
    }

    /** @return where the header starts */
    public int offset() {
        return offset;
    }

    /** @return TCP header, options and payload bytes */
    public int length() {
        return length;
    }

    /** @return header bytes, options included (after {@link #parse()}) */
    public int headerLength() {
        return headerLength;
    }

    /** @return where the payload starts */
    public int payloadOffset() {
        return offset + headerLength;
    }

    /** @return payload bytes */
    public int payloadLength() {
        return length - headerLength;
    }

    /** @return source port */
    public int sourcePort() {
        return buffer.getShort(offset + SOURCE_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return destination port */
    public int destinationPort() {
        return buffer.getShort(offset + DESTINATION_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return sequence number */
    public int sequence() {
        return buffer.getInt(offset + SEQUENCE_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** @return acknowledgement number */
    public int acknowledgement() {
        return buffer.getInt(offset + ACK_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** @return the flags byte (FIN..URG, ECE and CWR) */
    public int flags() {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    /** @return true if SYN is set */
    public boolean isSyn() {
        return (flags() & SYN) != 0;
    }

    /** @return the window field, unscaled */
    public int window() {
        return buffer.getShort(offset + WINDOW_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return the checksum field */
    public int checksum() {
        return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return the urgent pointer */
    public int urgentPointer() {
        return buffer.getShort(offset + URGENT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return the MSS option's value, -1 if absent (after {@link #parse()}) */
    public int mss() {
        return mss;
    }

    /** @return the window scale option's shift (at most 14), -1 if absent */
    public int windowScale() {
        return windowScale;
    }

    /** @return true if SACK-permitted was offered */
    public boolean sackPermitted() {
        return sackPermitted;
    }

    /** @return SACK blocks in the segment's SACK option, 0 without one (after {@link #parse()}) */
    public int sackBlocks() {
        return sackBlocks;
    }

    /**
     * @param block 0 to {@link #sackBlocks()} - 1, in the option's order (the latest range first, RFC 2018 4)
     * @return the block's left edge: the first sequence number it covers
     */
    public int sackLeft(final int block) {
        return sackEdges[2 * block];
    }

    /**
     * @param block 0 to {@link #sackBlocks()} - 1
     * @return the block's right edge: the sequence number just past it
     */
    public int sackRight(final int block) {
        return sackEdges[2 * block + 1];
    }

    /** @return true if the timestamps option was present */
    public boolean hasTimestamps() {
        return timestamps;
    }

    /** @return TSval of the timestamps option */
    public int timestampValue() {
        return timestampValue;
    }

    /** @return TSecr of the timestamps option */
    public int timestampEcho() {
        return timestampEcho;
    }

    /**
     * Verifies the checksum with the IPv4 pseudo-header.
     *
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return true if it verifies
     */
    public boolean isChecksumValid(final int sourceAddress, final int destinationAddress) {
        return Checksums.tcp(buffer, offset, length, sourceAddress, destinationAddress) == 0;
    }

    /**
     * Writes the fixed header with a zero checksum and urgent pointer.
     *
     * @param sourcePort      source port
     * @param destinationPort destination port
     * @param sequence        sequence number
     * @param acknowledgement acknowledgement number (written whatever the flags)
     * @param headerLength    header bytes with options, a multiple of 4 from 20 to 60
     * @param flags           flags
     * @param window          window field, already scaled down
     * @return this
     */
    public Tcp header(final int sourcePort, final int destinationPort, final int sequence, final int acknowledgement,
                      final int headerLength, final int flags, final int window) {
        final MutableDirectBuffer b = mutableBuffer;
        b.putShort(offset + SOURCE_PORT_OFFSET, (short) sourcePort, ByteOrder.BIG_ENDIAN);
        b.putShort(offset + DESTINATION_PORT_OFFSET, (short) destinationPort, ByteOrder.BIG_ENDIAN);
        b.putInt(offset + SEQUENCE_OFFSET, sequence, ByteOrder.BIG_ENDIAN);
        b.putInt(offset + ACK_OFFSET, acknowledgement, ByteOrder.BIG_ENDIAN);
        b.putByte(offset + DATA_OFFSET_OFFSET, (byte) ((headerLength >>> 2) << 4));
        b.putByte(offset + FLAGS_OFFSET, (byte) flags);
        b.putShort(offset + WINDOW_OFFSET, (short) window, ByteOrder.BIG_ENDIAN);
        b.putInt(offset + CHECKSUM_OFFSET, 0);
        this.headerLength = headerLength;
        return this;
    }

    /**
     * Computes and stores the checksum over the whole wrapped segment.
     *
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return this
     */
    public Tcp computeChecksum(final int sourceAddress, final int destinationAddress) {
        mutableBuffer.putShort(offset + CHECKSUM_OFFSET, (short) 0);
        final int c = Checksums.tcp(mutableBuffer, offset, length, sourceAddress, destinationAddress);
        mutableBuffer.putShort(offset + CHECKSUM_OFFSET, (short) c, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * Writes the options of a SYN or SYN-ACK: MSS, then (if asked) window scale and SACK-permitted,
     * padded with NOPs to a multiple of 4.
     *
     * @param buffer       the frame
     * @param offset       where the options start (header + 20)
     * @param mss          the MSS to offer
     * @param windowScale  the shift to offer, or -1 to offer none
     * @param sackPermitted whether to offer SACK
     * @return bytes written, a multiple of 4
     */
    public static int writeSynOptions(final MutableDirectBuffer buffer, final int offset, final int mss, final int windowScale,
                                      final boolean sackPermitted) {
        int p = offset;
        buffer.putByte(p, (byte) OPTION_MSS);
        buffer.putByte(p + 1, (byte) 4);
        buffer.putShort(p + 2, (short) mss, ByteOrder.BIG_ENDIAN);
        p += 4;
        if (windowScale >= 0) {
            buffer.putByte(p, (byte) OPTION_NOP);
            buffer.putByte(p + 1, (byte) OPTION_WINDOW_SCALE);
            buffer.putByte(p + 2, (byte) 3);
            buffer.putByte(p + 3, (byte) windowScale);
            p += 4;
        }
        if (sackPermitted) {
            buffer.putByte(p, (byte) OPTION_NOP);
            buffer.putByte(p + 1, (byte) OPTION_NOP);
            buffer.putByte(p + 2, (byte) OPTION_SACK_PERMITTED);
            buffer.putByte(p + 3, (byte) 2);
            p += 4;
        }
        return p - offset;
    }

    /**
     * Writes a timestamps option, NOP-padded to 12 bytes.
     *
     * @param buffer the frame
     * @param offset where it goes
     * @param value  TSval
     * @param echo   TSecr
     * @return 12
     */
    public static int writeTimestamps(final MutableDirectBuffer buffer, final int offset, final int value, final int echo) {
        buffer.putByte(offset, (byte) OPTION_NOP);
        buffer.putByte(offset + 1, (byte) OPTION_NOP);
        buffer.putByte(offset + 2, (byte) OPTION_TIMESTAMPS);
        buffer.putByte(offset + 3, (byte) 10);
        buffer.putInt(offset + 4, value, ByteOrder.BIG_ENDIAN);
        buffer.putInt(offset + 8, echo, ByteOrder.BIG_ENDIAN);
        return 12;
    }

    /**
     * @param a a sequence number
     * @param b another
     * @return true if {@code a} comes before {@code b} modulo 2^32
     */
    public static boolean before(final int a, final int b) {
        return a - b < 0;
    }

    /**
     * @param a a sequence number
     * @param b another
     * @return true if {@code a} comes before or is {@code b}
     */
    public static boolean beforeOrAt(final int a, final int b) {
        return a - b <= 0;
    }
}
