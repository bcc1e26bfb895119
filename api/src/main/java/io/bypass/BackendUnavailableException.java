package io.bypass;

/**
 * The backend named by a URI cannot run on this host. The message carries the
 * backend's {@link io.bypass.spi.BackendProvider#unavailabilityCause() cause} and remedy;
 * Bypass never falls back silently to another backend for an explicit URI.
 */
public final class BackendUnavailableException extends BypassException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what is unavailable, why, and how to fix it
     * @param cause   the probe failure, may be null
     */
    public BackendUnavailableException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
