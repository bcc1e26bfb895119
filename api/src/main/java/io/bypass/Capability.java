package io.bypass;

/**
 * What a port or endpoint can do. Applications that need raw frames or hardware
 * timestamps check these rather than the backend name.
 */
public enum Capability {
    /** Raw Ethernet frames through {@link Port}, {@link RxQueue} and {@link TxQueue}. */
    L2_FRAMES,
    /** Received frames are views onto NIC-owned memory, never copied. */
    ZERO_COPY_RX,
    /** Transmit claims write straight into memory the NIC sends from. */
    ZERO_COPY_TX,
    /** Multicast groups can be joined and left. */
    MULTICAST,
    /** The port delivers only the flows asked for with {@link Port#addFlow}; others stay with the kernel. */
    FLOW_STEERING,
    /** The kernel still owns the interface's IP: it answers ARP and sends IGMP, so the UDP layer must not. */
    KERNEL_NEIGHBOURS,
    /** {@link FrameMeta#timestampNanos()} is stamped by the NIC. */
    HARDWARE_TIMESTAMPS,
    /** The NIC fills IPv4 and UDP checksums on transmit. */
    TX_CHECKSUM_OFFLOAD,
    /**
     * The NIC checks received IPv4 and UDP checksums and says so in
     * {@link FrameMeta#checksumVerdict()}, right or wrong; the protocol layer then skips its
     * own sum (URI key {@code checksum=nic}, the default). Without it every checksum of a
     * frame without a verdict is summed in software. By backend: dpdk claims it where the PMD
     * offers {@code RTE_ETH_RX_OFFLOAD_IPV4_CKSUM|UDP_CKSUM}; efvi does not, because ef_vi
     * reports only wrong sums (an {@code RX_DISCARD} of subtype {@code CSUM_BAD}, delivered with
     * a bad verdict and dropped on it under {@code nic}) and never a right one, so its good
     * frames are summed in software; afxdp has no verdict on this kernel; nio leaves
     * checksums to the kernel.
     */
    RX_CHECKSUM_VERDICT,
    /** Several RX and TX queues, with RSS or flow steering spreading the load. */
    MULTI_QUEUE,
    /** The kernel busy-polls the device for this socket (SO_PREFER_BUSY_POLL). */
    BUSY_POLL
}
