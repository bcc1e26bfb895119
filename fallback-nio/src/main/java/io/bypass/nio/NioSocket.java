package io.bypass.nio;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;

/**
 * One receiving socket of a {@link NioUdpEndpoint}: a bound port, or a joined group with
 * its membership. {@code inode} is filled by {@link UdpStats#track} to find the socket's
 * kernel drop count.
 */
final class NioSocket implements AutoCloseable {
    final DatagramChannel channel;
    final int address;
    final int port;
    final MembershipKey key;
    long inode;

    /**
     * @param channel the bound, non-blocking socket
     * @param address the bound address or the group, as an int
     * @param port    the bound UDP port
     * @param key     the group membership, or null for a bound port
     */
    NioSocket(final DatagramChannel channel, final int address, final int port, final MembershipKey key) {
        this.channel = channel;
        this.address = address;
        this.port = port;
        this.key = key;
    }

    /** Drops the membership, if any, and closes the socket, even if the drop failed. */
    @Override
    public void close() throws IOException {
        try {
            if (key != null) {
                key.drop();
            }
        } finally {
            channel.close();
        }
    }

    /** As {@link #close()}, ignoring a failure to close the socket: nothing more could be freed. */
    void closeQuietly() {
        try {
            close();
        } catch (final IOException ignored) {
            // nothing more to free
        }
    }
}
