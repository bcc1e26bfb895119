package io.bypass.samples.cli;

/**
 * A bad command line: the message names the argument and what was expected. The
 * launcher prints it with the command's usage and exits with status 2.
 */
public final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what is wrong, e.g. {@code --rate: expected a number, got 'fast'}
     */
    public UsageException(final String message) {
        super(message);
    }
}
