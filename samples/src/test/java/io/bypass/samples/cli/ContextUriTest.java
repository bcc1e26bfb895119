package io.bypass.samples.cli;

import io.bypass.BypassUriException;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A command's own default for a URI key goes into the URI, and a user's own value always wins. */
class ContextUriTest {
    private static Context configured(final String... argv) throws UsageException {
        final PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        final Context ctx = new Context(discard, discard);
        final String[] all = new String[argv.length + 1];
        all[0] = "x";
        System.arraycopy(argv, 0, all, 1, argv.length);
        ctx.configure(Context.common(new Options("x", "x"), true, null).parse(all, 1));
        return ctx;
    }

    /** @return the URI after the ping-pong's default for the receive budget */
    private static String withStallDefault(final String... argv) throws UsageException {
        final Context ctx = configured(argv);
        ctx.defaultUriParam("rxStallMs", "10", "rxStallPps");
        return ctx.uri();
    }

    @Test
    void addsTheDefaultWhereTheUriSaysNothing() throws UsageException {
        assertEquals(Context.DEFAULT_URI + "?rxStallMs=10", withStallDefault());
        assertEquals("afxdp:veth0?xdp=drv&mode=copy&rxStallMs=10", withStallDefault("--uri", "afxdp:veth0?xdp=drv&mode=copy"));
    }

    @Test
    void keepsWhatTheUserGave() throws UsageException {
        assertEquals("afxdp:veth0?rxStallMs=200", withStallDefault("--uri", "afxdp:veth0?rxStallMs=200"));
        assertEquals("dpdk:net_ring0?rxStallPps=1000000", withStallDefault("--uri", "dpdk:net_ring0?rxStallPps=1000000"));
    }

    @Test
    void aMalformedUriIsNamedBeforeAnythingOpens() throws UsageException {
        final Context bad = configured("--uri", "afxdp:veth0?xdp");
        final BypassUriException e = assertThrows(BypassUriException.class, () -> bad.defaultUriParam("rxStallMs", "10"));
        assertTrue(e.getMessage().contains("parameter 'xdp' must be key=value"), e.getMessage());
    }
}
