package io.bypass.afxdp;

import io.bypass.testing.Frames;
import org.agrona.DirectBuffer;

/**
 * Ethernet/IPv4/TCP frames for the steering tests, well formed or broken on purpose, and a
 * reader for the ones a port receives. The TCP checksum is left 0: the XDP program never reads
 * it, and these frames reach a raw {@link io.bypass.Port} or the kernel, which drops them.
 */
final class TcpFrames {
    static final int IP = 14;
    static final int TCP = IP + 20;
    static final int SYN = 0x02;
    static final int ACK = 0x10;

    private TcpFrames() {
    }

    /**
     * @param srcMac  source MAC
     * @param dstMac  destination MAC
     * @param src     source address
     * @param dst     destination address
     * @param sport   source port
     * @param dport   destination port
     * @param flags   TCP flags
     * @param doff    data offset in 32-bit words (5 for a plain header)
     * @param tcpLength bytes of the IPv4 payload (at least 4, the ports)
     * @return the frame, IPv4 total length covering {@code tcpLength}, IPv4 checksum right, DF set
     */
    static byte[] frame(final long srcMac, final long dstMac, final int src, final int dst, final int sport, final int dport,
                        final int flags, final int doff, final int tcpLength) {
        final byte[] f = new byte[Math.max(60, TCP + tcpLength)];
        Frames.putMac(f, 0, dstMac);
        Frames.putMac(f, 6, srcMac);
        Frames.putShort(f, 12, 0x0800);
        f[IP] = 0x45;
        Frames.putShort(f, IP + 2, 20 + tcpLength);
        Frames.putShort(f, IP + 6, 0x4000);
        f[IP + 8] = 64;
        f[IP + 9] = 6;
        Frames.putInt(f, IP + 12, src);
        Frames.putInt(f, IP + 16, dst);
        Frames.putShort(f, TCP, sport);
        Frames.putShort(f, TCP + 2, dport);
        if (tcpLength >= 14) {
            Frames.putInt(f, TCP + 4, 1000);
            f[TCP + 12] = (byte) (doff << 4);
            f[TCP + 13] = (byte) flags;
        }
        if (tcpLength >= 16) {
            Frames.putShort(f, TCP + 14, 65535);
        }
        Frames.fixIpChecksum(f);
        return f;
    }

    /** What a received frame is, if IPv4/TCP. */
    record Segment(int src, int dst, int sport, int dport, int flags) {
    }

    /**
     * @return the segment a frame carries, or null if it is not IPv4/TCP
     */
    static Segment read(final DirectBuffer b, final int o, final int l) {
        if (l < TCP + 20 || (b.getByte(o + 12) & 0xFF) != 0x08 || b.getByte(o + 13) != 0 || b.getByte(o + IP + 9) != 6) {
            return null;
        }
        final int tcp = o + IP + (b.getByte(o + IP) & 0x0F) * 4;
        return new Segment(b.getInt(o + IP + 12, java.nio.ByteOrder.BIG_ENDIAN), b.getInt(o + IP + 16, java.nio.ByteOrder.BIG_ENDIAN),
            b.getShort(tcp, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF, b.getShort(tcp + 2, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF,
            b.getByte(tcp + 13) & 0xFF);
    }
}
