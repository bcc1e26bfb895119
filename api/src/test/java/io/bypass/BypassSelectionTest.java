package io.bypass;

import io.bypass.spi.BackendProvider;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BypassSelectionTest {
    /** A provider that records what it was asked to open and returns a marker. */
    private static final class FakeProvider implements BackendProvider {
        final String name;
        final int priority;
        final Throwable cause;
        final String cannotServe;
        final RuntimeException openFailure;
        final List<String> opened = new ArrayList<>();

        FakeProvider(final String name, final int priority, final Throwable cause, final String cannotServe,
                     final RuntimeException openFailure) {
            this.name = name;
            this.priority = priority;
            this.cause = cause;
            this.cannotServe = cannotServe;
            this.openFailure = openFailure;
        }

        @Override public String name() { return name; }
        @Override public int priority() { return priority; }
        @Override public boolean isAvailable() { return cause == null; }
        @Override public Throwable unavailabilityCause() { return cause; }
        @Override public String cannotServe(final PortUri uri) { return cannotServe; }

        @Override
        public Port openPort(final PortUri uri) {
            throw new UnsupportedOperationException("not used");
        }

        String open(final PortUri uri) {
            if (openFailure != null) {
                throw openFailure;
            }
            opened.add(uri.text());
            return name;
        }
    }

    private static Bypass.Selection<String> select(final String uri, final FakeProvider... providers) {
        final List<BackendProvider> list = List.of(providers);
        return Bypass.select(PortUri.parse(uri), false, (p, u) -> ((FakeProvider) p).open(u), list);
    }

    @Test
    void explicitSchemeOpensThatBackend() {
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, null);
        final Bypass.Selection<String> s = select("nio:lo", nio);
        assertEquals("nio", s.opened());
        assertEquals(List.of("nio:lo"), nio.opened);
        assertTrue(s.reasons().isEmpty());
    }

    @Test
    void explicitUnavailableBackendFailsWithItsCauseAndNeverFallsBack() {
        final FakeProvider afxdp = new FakeProvider("afxdp", 200, new IllegalStateException("libxdp.so.1 not found: apt-get install libxdp1"), null, null);
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, null);
        final BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> select("afxdp:eth0", afxdp, nio));
        assertTrue(e.getMessage().contains("libxdp.so.1 not found"), e.getMessage());
        assertTrue(nio.opened.isEmpty(), "must not fall back");
    }

    @Test
    void unknownSchemeNamesTheBackendsFound() {
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, null);
        final BypassUriException e = assertThrows(BypassUriException.class, () -> select("rdma:eth0", nio));
        assertTrue(e.getMessage().contains("no backend named 'rdma'"), e.getMessage());
        assertTrue(e.getMessage().contains("backends on the class path: nio"), e.getMessage());
        assertTrue(e.getMessage().contains("schemes: auto, efvi, dpdk, afxdp, nio"), e.getMessage());
        assertFalse(e.getMessage().contains("bypass-rdma"), "no such artifact: " + e.getMessage());
    }

    @Test
    void aMisspeltSchemeSuggestsTheClosestNotANonexistentArtifact() {
        final FakeProvider afxdp = new FakeProvider("afxdp", 200, null, null, null);
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, null);
        BypassUriException e = assertThrows(BypassUriException.class, () -> select("afxpd:eth0", afxdp, nio));
        assertTrue(e.getMessage().contains("no backend named 'afxpd'; did you mean 'afxdp:'? (backends on the class path: afxdp, nio)"),
            e.getMessage());
        assertFalse(e.getMessage().contains("bypass-afxpd"), e.getMessage());
        // Closest to a backend Bypass ships but that is not on the path: name its artifact.
        e = assertThrows(BypassUriException.class, () -> select("dpkd:eth0", nio));
        assertTrue(e.getMessage().contains("did you mean 'dpdk:'? (add the io.bypass:bypass-dpdk dependency)"), e.getMessage());
        e = assertThrows(BypassUriException.class, () -> select("atuo:eth0", nio));
        assertTrue(e.getMessage().contains("did you mean 'auto:'?"), e.getMessage());
    }

    @Test
    void aShippedBackendMissingFromThePathNamesItsArtifact() {
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, null);
        final BypassUriException e = assertThrows(BypassUriException.class, () -> select("efvi:eth0", nio));
        assertTrue(e.getMessage().contains("backend 'efvi' is not on the class path; add the io.bypass:bypass-efvi dependency"),
            e.getMessage());
    }

    @Test
    void autoWithNoBackendAtAllSaysSoAndWhatToAdd() {
        final BypassException e = assertThrows(BypassException.class, () -> select("auto:lo"));
        assertTrue(e.getMessage().startsWith("auto: no backend on the class path to open 'lo': add one as a runtime dependency"),
            e.getMessage());
        assertTrue(e.getMessage().contains("io.bypass:bypass-nio"), e.getMessage());
    }

    @Test
    void autoPicksTheBestAvailableAndSaysWhyItPassedOverOthers() {
        final FakeProvider efvi = new FakeProvider("efvi", 400, new IllegalStateException("no Onload"), null, null);
        final FakeProvider dpdk = new FakeProvider("dpdk", 300, null, "interface eth0 is not bound to a DPDK driver", null);
        final FakeProvider afxdp = new FakeProvider("afxdp", 200, null, null, new BypassException("EPERM: run as root"));
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, null);
        final Bypass.Selection<String> s = select("auto:eth0?x=1", efvi, dpdk, afxdp, nio);
        assertEquals("nio", s.opened());
        assertEquals(List.of("nio:eth0?x=1"), nio.opened);
        assertEquals(3, s.reasons().size());
        assertTrue(s.reasons().get(0).startsWith("efvi: unavailable: no Onload"), s.reasons().get(0));
        assertTrue(s.reasons().get(1).contains("not bound to a DPDK driver"), s.reasons().get(1));
        assertTrue(s.reasons().get(2).contains("open failed: EPERM"), s.reasons().get(2));
    }

    @Test
    void autoWithNothingUsableExplainsEveryBackend() {
        final FakeProvider afxdp = new FakeProvider("afxdp", 200, new IllegalStateException("no AF_XDP"), null, null);
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, new UnsupportedByBackendException("nio", "an L2 Port", "use openUdp"));
        final BypassException e = assertThrows(BypassException.class, () -> select("auto:eth0", afxdp, nio));
        assertTrue(e.getMessage().contains("afxdp: unavailable: no AF_XDP"), e.getMessage());
        assertTrue(e.getMessage().contains("nio: an L2 Port is not supported"), e.getMessage());
    }

    @Test
    void backendsAreSortedByPriority() {
        final List<BackendProvider> found = Bypass.backends();
        for (int i = 1; i < found.size(); i++) {
            assertTrue(found.get(i - 1).priority() >= found.get(i).priority());
        }
        assertSame(found, Bypass.backends(), "probed once and cached");
    }

    /** Issue 14: TCP's default in BackendProvider refuses, naming the backend; auto passes over it to one with TCP. */
    @Test
    void aBackendWithoutTcpRefusesItAndAutoPassesOver() {
        final FakeProvider efvi = new FakeProvider("efvi", 200, null, null, null);
        final UnsupportedByBackendException e = assertThrows(UnsupportedByBackendException.class,
            () -> efvi.openTcp(PortUri.parse("efvi:eth0")));
        assertTrue(e.getMessage().startsWith("TCP is not supported by the 'efvi' backend: Bypass's own TCP runs on dpdk:, afxdp: and efvi: so far"),
            e.getMessage());
        final FakeProvider nio = new FakeProvider("nio", 100, null, null, null);
        final Bypass.Selection<Object> s = Bypass.select(PortUri.parse("auto:eth0"), false,
            (p, u) -> p == nio ? "nio's TCP" : p.openTcp(u), List.of(efvi, nio));
        assertEquals("nio's TCP", s.opened());
        assertTrue(s.reasons().get(0).startsWith("efvi: TCP is not supported by the 'efvi' backend"), s.reasons().toString());
    }
}
