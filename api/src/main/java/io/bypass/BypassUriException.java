package io.bypass;

/**
 * A port URI that cannot be parsed or names an option the backend does not know.
 * The message quotes the URI and names the bad part, for example
 * {@code afxdp:eth1?queue=x: parameter 'queue' must be an integer, got 'x'}.
 */
public final class BypassUriException extends BypassException {
    private static final long serialVersionUID = 1L;

    /**
     * @param uri     the URI as given
     * @param problem what is wrong with which part
     */
    public BypassUriException(final String uri, final String problem) {
        super("bad port URI '" + uri + "': " + problem);
    }
}
