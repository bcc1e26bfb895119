package io.bypass.efvi;

import io.bypass.BackendUnavailableException;
import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.efvi.internal.EfviNative;
import io.bypass.efvi.internal.gen.EfviShim;
import io.bypass.spi.BackendProvider;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Availability, library selection, URI validation and the shim's build, without traffic.
 * Surefire points {@code bypass.efvi.libciul} at the software stand-in.
 */
class EfviProviderTest {
    private static final Path TEST_DIR = Path.of(System.getProperty("bypass.efvi.test.dir", "target/efvi-standin"));
    private static final boolean ONLOAD_HEADERS = Files.isRegularFile(Path.of("/usr/include/etherfabric/ef_vi.h"));

    @Test
    void withoutAConfiguredLibraryTheCauseNamesOnloadAndTheRemedy() {
        final boolean onloadInstalled;
        try (Arena a = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(EfviNative.LIBCIUL, a);
            onloadInstalled = true;
        } catch (final IllegalArgumentException e) {
            assertNotNull(e.getMessage());
            final BackendUnavailableException cause = assertThrows(BackendUnavailableException.class,
                () -> EfviNative.locateLibciul(null, null));
            assertTrue(cause.getMessage().startsWith("Onload's libciul.so.1 not found: install Onload (https://github.com/Xilinx-CNS/onload"),
                cause.getMessage());
            assertTrue(cause.getMessage().contains("-Dbypass.efvi.libciul="), cause.getMessage());
            return;
        }
        // A host with Onload: the default is the real library.
        assertTrue(onloadInstalled);
        assertEquals(EfviNative.LIBCIUL, EfviNative.locateLibciul(null, null));
    }

    @Test
    void aConfiguredLibraryMustExist() {
        final BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
            () -> EfviNative.locateLibciul("/nonexistent/libciul.so.1", null));
        assertTrue(e.getMessage().contains("/nonexistent/libciul.so.1") && e.getMessage().contains("bypass.efvi.libciul"), e.getMessage());
        final String standin = TEST_DIR.resolve("libbypass_ciul_standin.so").toString();
        assertEquals(standin, EfviNative.locateLibciul(null, standin), "the environment variable is used without the property");
        assertEquals(standin, EfviNative.locateLibciul(standin, "/nonexistent"), "the property wins over the environment");
    }

    @Test
    void providerIsFoundAndAvailableWithTheStandIn() {
        final BackendProvider p = Bypass.backend("efvi");
        assertNotNull(p, "efvi provider not found by ServiceLoader");
        assertEquals(400, p.priority());
        assertNull(p.unavailabilityCause(), () -> "efvi unavailable with the stand-in: " + p.unavailabilityCause());
        assertTrue(p.isAvailable());
        assertEquals(EfviShim.BYPASS_EFVI_LIB_STANDIN(), EfviShim.bypass_efvi_lib_kind(), "surefire configures the stand-in");
        assertTrue(EfviShim.bypass_efvi_lib_version().reinterpret(64).getString(0).startsWith("bypass-ciul-standin"));
    }

    /** The build compiles the shim against our own header; the jar's shim too when Onload is absent. */
    @Test
    void shimIsBuiltAgainstOurOwnHeader() throws Throwable {
        final Path own = TEST_DIR.resolve("libbypass_efvi_ownhdr.so");
        assertTrue(Files.isRegularFile(own), own + " not built");
        try (Arena a = Arena.ofConfined()) {
            final MethodHandle abi = Linker.nativeLinker().downcallHandle(
                SymbolLookup.libraryLookup(own, a).find("bypass_efvi_abi").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
            assertEquals(EfviShim.BYPASS_EFVI_ABI_OWN_HEADER(), (int) abi.invokeExact());
        }
        assertNotNull(EfviNative.class.getResource(EfviNative.SHIM_RESOURCE), "the shim is packaged in the jar's resources");
        assertEquals(ONLOAD_HEADERS ? EfviShim.BYPASS_EFVI_ABI_ONLOAD() : EfviShim.BYPASS_EFVI_ABI_OWN_HEADER(),
            ONLOAD_HEADERS ? EfviShim.BYPASS_EFVI_ABI_ONLOAD() : EfviShim.bypass_efvi_abi(),
            "without /usr/include/etherfabric the loaded shim is the own-header build");
    }

    /**
     * A shim built against our own header must never drive Onload's libciul (struct ef_vi
     * differs): it refuses any library that is not the stand-in. Checked on a separate copy
     * of the shim (its own dlopen handle and globals), with libm standing in for "not ours".
     */
    @Test
    void ownHeaderShimRefusesALibraryThatIsNotTheStandIn() throws Throwable {
        // A private copy: dlopen of the same file would return the already loaded shim.
        final Path own = Files.createTempFile("bypass_efvi_ownhdr_copy", ".so");
        Files.copy(TEST_DIR.resolve("libbypass_efvi_ownhdr.so"), own, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (Arena a = Arena.ofConfined()) {
            final MethodHandle load = Linker.nativeLinker().downcallHandle(
                SymbolLookup.libraryLookup(own, a).find("bypass_efvi_load").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            final java.lang.foreign.MemorySegment err = a.allocate(512);
            final int rc = (int) load.invokeExact(a.allocateFrom("libm.so.6"), err, 512);
            assertEquals(-71, rc, "EPROTO");
            final String msg = err.getString(0);
            assertTrue(msg.contains("compiled without Onload's headers") && msg.contains("rebuild bypass-efvi"), msg);
            final int missing = (int) load.invokeExact(a.allocateFrom("/nonexistent/libciul.so.1"), err, 512);
            assertEquals(-2, missing, "ENOENT");
            assertTrue(err.getString(0).contains("dlopen(/nonexistent/libciul.so.1) failed"), err.getString(0));
        } finally {
            Files.deleteIfExists(own);
        }
    }

    @Test
    void badUrisAreRefusedNamingTheParameter() {
        assertUri("efvi:eth0?rxring=512", "unknown parameter 'rxring'");
        assertUri("efvi:eth0?rxRing=100", "'rxRing' must be a power of two");
        assertUri("efvi:eth0?txRing=8192", "'txRing' must be in 64..4096");
        assertUri("efvi:eth0?buffers=1", "'buffers' must be in 2..32768");
        assertUri("efvi:", "missing interface");
        assertUri("efvi:eth0?ttl=7", "write unicastTtl (unicast, default 64) or multicastTtl");
        assertUri("efvi:eth0?mcast_ttl=2", "now multicastTtl");
    }

    /** What {@code bypass doctor} shows for efvi comes from the backend's own sizing rule. */
    @Test
    void rxBufferingIsTheRingLessOneCappedByTheNic() {
        final BackendProvider p = new EfviBackendProvider();
        final io.bypass.spi.RxBuffering dflt = p.rxBuffering(io.bypass.PortUri.parse("efvi:eth0"));
        assertEquals("NIC ring cap", dflt.description(), "the default budget asks for 10,000 frames, more than 4096");
        assertEquals(4095, dflt.frames());
        final io.bypass.spi.RxBuffering shortStall = p.rxBuffering(io.bypass.PortUri.parse("efvi:eth0?rxStallMs=10"));
        assertEquals("RX ring", shortStall.description());
        assertEquals(2047, shortStall.frames(), "2,000 frames round up to a 2048-entry ring");
        assertEquals(1023, p.rxBuffering(io.bypass.PortUri.parse("efvi:eth0?rxRing=1024")).frames());
        assertEquals(50, p.rxBuffering(io.bypass.PortUri.parse("efvi:eth0?buffers=100")).frames(), "half the buffers");
        assertThrows(BypassUriException.class, () -> p.rxBuffering(io.bypass.PortUri.parse("efvi:eth0?rxRing=8192")));
    }

    @Test
    void everyAcceptedKeyIsDocumentedOnTheProvider() throws Exception {
        final String doc = Files.readString(Path.of("src/main/java/io/bypass/efvi/EfviBackendProvider.java"));
        for (final io.bypass.spi.UriParam k : new EfviBackendProvider().uriParams()) {
            assertTrue(doc.contains("{@code " + k.name()), "EfviBackendProvider's javadoc does not list URI key " + k.name());
        }
    }

    private static void assertUri(final String uri, final String expected) {
        final BypassUriException e = assertThrows(BypassUriException.class, () -> Bypass.open(uri));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void unknownInterfaceIsAClearError() {
        final BypassException e = assertThrows(BypassException.class, () -> Bypass.open("efvi:nosuchif0"));
        assertTrue(e.getMessage().contains("no interface 'nosuchif0'"), e.getMessage());
    }
}
