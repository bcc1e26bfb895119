package io.bypass;

/**
 * The operation exists in the API but the chosen backend does not offer it, for
 * example an L2 {@link Port} from the {@code nio:} backend, which only offers
 * {@link io.bypass.udp.UdpEndpoint}. Check {@link Capability} first to avoid it.
 */
public final class UnsupportedByBackendException extends BypassException {
    private static final long serialVersionUID = 1L;

    /**
     * @param backend   the backend name, such as {@code nio}
     * @param operation what was asked for
     * @param hint      what to use instead
     */
    public UnsupportedByBackendException(final String backend, final String operation, final String hint) {
        super(operation + " is not supported by the '" + backend + "' backend: " + hint);
    }
}
