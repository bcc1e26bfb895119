package io.bypass;

/**
 * The one exception type Bypass throws. Its message names what failed (the call, the
 * URI part, the backend) and, where there is one, what the user can do about it.
 *
 * <p>Never thrown from a hot-path method in steady state: {@code poll}, {@code tryClaim},
 * {@code commit} and {@code flush} report through return codes and {@link Counters}.
 * The exceptions are use after close and programming errors such as a claim longer
 * than the frame size.
 */
public class BypassException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, and the remedy if there is one
     */
    public BypassException(final String message) {
        super(message);
    }

    /**
     * @param message what failed, and the remedy if there is one
     * @param cause   the underlying failure
     */
    public BypassException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
