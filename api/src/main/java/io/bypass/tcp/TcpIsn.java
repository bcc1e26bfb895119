package io.bypass.tcp;

import java.security.SecureRandom;

/**
 * Initial sequence numbers per RFC 6528: {@code ISN = M + F(localip, localport, remoteip, remoteport, secretkey)},
 * M a clock ticking every 4 microseconds and F SipHash-2-4 (a keyed pseudorandom function) of the
 * 4-tuple under a 128-bit key drawn from {@link SecureRandom} when the endpoint opens. An off-path
 * attacker cannot guess the ISN of a connection, and a new connection on a reused 4-tuple starts
 * above the old one's sequence numbers.
 */
final class TcpIsn {
    private final long k0;
    private final long k1;

    TcpIsn() {
        final SecureRandom random = new SecureRandom();
        k0 = random.nextLong();
        k1 = random.nextLong();
    }

    /**
     * @param nanos the endpoint's clock, nanoseconds
     * @return the ISN for the 4-tuple
     */
    int isn(final int localAddress, final int localPort, final int remoteAddress, final int remotePort, final long nanos) {
        final long m0 = ((long) localAddress << 32) | (remoteAddress & 0xFFFF_FFFFL);
        final long m1 = ((long) localPort << 16) | remotePort;
        return (int) (nanos / 4_000) + (int) sipHash(m0, m1);
    }

    private long sipHash(final long m0, final long m1) {
        // connect() allocates anyway, so one small array per ISN costs nothing on the hot path
        final long[] v = {k0 ^ 0x736f6d6570736575L, k1 ^ 0x646f72616e646f6dL, k0 ^ 0x6c7967656e657261L, k1 ^ 0x7465646279746573L};
        compress(v, m0);
        compress(v, m1);
        compress(v, 16L << 56);
        v[2] ^= 0xFF;
        for (int i = 0; i < 4; i++) {
            round(v);
        }
        return v[0] ^ v[1] ^ v[2] ^ v[3];
    }

    private static void compress(final long[] v, final long m) {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    }

    private static void round(final long[] v) {
        v[0] += v[1];
        v[1] = Long.rotateLeft(v[1], 13);
        v[1] ^= v[0];
        v[0] = Long.rotateLeft(v[0], 32);
        v[2] += v[3];
        v[3] = Long.rotateLeft(v[3], 16);
        v[3] ^= v[2];
        v[0] += v[3];
        v[3] = Long.rotateLeft(v[3], 21);
        v[3] ^= v[0];
        v[2] += v[1];
        v[1] = Long.rotateLeft(v[1], 17);
        v[1] ^= v[2];
        v[2] = Long.rotateLeft(v[2], 32);
    }
}
