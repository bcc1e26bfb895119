package io.bypass.net;

import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.spi.UriParam;

/**
 * How received IPv4 and UDP checksums are checked: URI key {@value #PARAM_NAME}, the same
 * on every backend.
 *
 * <ul>
 *   <li>{@link #NIC} (the default): where the NIC gave a verdict on a frame
 *       ({@link io.bypass.FrameMeta#checksumVerdict()}), it is used and the software sum
 *       is skipped; otherwise as {@link #PARTIAL}. dpdk gives right and wrong verdicts where
 *       the PMD checks ({@link io.bypass.Capability#RX_CHECKSUM_VERDICT}); efvi only wrong
 *       ones (ef_vi's {@code RX_DISCARD / CSUM_BAD}), so its good frames are summed in
 *       software; afxdp none.</li>
 *   <li>{@link #PARTIAL}: checksums are checked in software, a NIC's verdict ignored; a datagram whose UDP
 *       checksum field holds only the pseudo-header sum (a kernel peer on the same host
 *       over a veth pair, which leaves the rest to a NIC that is not there:
 *       {@code CHECKSUM_PARTIAL}) is delivered and counted in
 *       {@link io.bypass.Counter#RX_PARTIAL_CHECKSUM}, its field compared before any payload is
 *       summed (the sender never summed it either). Every other datagram's sum is computed, and a
 *       wrong one dropped.</li>
 *   <li>{@link #VERIFY}: every checksum is summed in software (a NIC's verdict ignored) and any wrong one, a partial
 *       one included, is dropped, as a host on the wire would.</li>
 * </ul>
 *
 * <p>On {@code nio:} the kernel checks checksums before a datagram reaches the socket
 * (and trusts a local peer's partial sum), so every policy behaves the same there.
 *
 * <pre>{@code
 * UdpEndpoint strict = UdpEndpoint.open("afxdp:eth1?checksum=verify");
 * }</pre>
 */
public enum ChecksumPolicy {
    /** Drop every datagram whose checksum is not complete and right. */
    VERIFY("verify"),
    /** Accept a kernel peer's partial UDP checksum, count it, drop any other wrong sum. */
    PARTIAL("partial"),
    /** Use the NIC's verdict where it gives one, otherwise as {@link #PARTIAL}. */
    NIC("nic");

    /** The URI key. */
    public static final String PARAM_NAME = "checksum";
    /** The policy without the key. */
    public static final ChecksumPolicy DEFAULT = NIC;
    /** The key's declaration; its words are the policies' {@link #uriValue()}s. */
    public static final UriParam PARAM = UriParam.choice(PARAM_NAME, "nic",
        "how received IPv4/UDP checksums are checked: nic uses the NIC's verdict where it gives one, else as partial; "
            + "partial sums in software and delivers a kernel peer's partial UDP sum (counted rx_partial_checksum); "
            + "verify drops any sum not complete and right (nio: the kernel checks, every policy alike)",
        "verify", "partial", "nic");

    private final String uriValue;

    ChecksumPolicy(final String uriValue) {
        this.uriValue = uriValue;
    }

    /** @return the value as written in a URI */
    public String uriValue() {
        return uriValue;
    }

    /**
     * @param uri a port or endpoint URI
     * @return the policy its {@value #PARAM_NAME} key names, or {@link #DEFAULT}
     * @throws BypassUriException for a value that is not {@code verify}, {@code partial} or {@code nic}
     */
    public static ChecksumPolicy from(final PortUri uri) {
        final String value = uri.get(PARAM_NAME, null);
        if (value == null) {
            return DEFAULT;
        }
        for (final ChecksumPolicy policy : values()) {
            if (policy.uriValue.equals(value)) {
                return policy;
            }
        }
        throw new BypassUriException(uri.toString(),
            PARAM_NAME + "=" + value + " is not a checksum policy: use verify, partial or nic (the default)");
    }
}
