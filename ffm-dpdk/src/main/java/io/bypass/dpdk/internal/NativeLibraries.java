package io.bypass.dpdk.internal;

import io.bypass.BackendUnavailableException;
import io.bypass.spi.JvmFlags;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Probes once whether this host can run the DPDK backend: Linux on x86-64, the DPDK 22.11
 * runtime libraries present, and the C shim loadable from the jar. Caches the cause.
 *
 * <p>The DPDK libraries are probed with {@link SymbolLookup#libraryLookup(String, Arena)}
 * before the generated classes are touched: their static initialisers throw when a library
 * is missing, and a class that failed to initialise stays broken for the JVM's life.
 *
 * <p>The shim is extracted from {@value #SHIM_RESOURCE} to a temporary file and loaded
 * with {@link System#load(String)}, as netty does for its transports; the generated
 * {@code Shim} class then finds its symbols through {@link SymbolLookup#loaderLookup()}.
 */
public final class NativeLibraries {
    /** Where the build puts the shim inside the jar. */
    public static final String SHIM_RESOURCE = "/META-INF/native/linux-x86_64/libbypass_dpdk.so";

    /** Remedy for missing DPDK runtime libraries. */
    public static final String INSTALL_REMEDY =
        "install the DPDK 22.11 runtime: apt-get install dpdk (or librte-eal23 librte-ethdev23 librte-mempool23 librte-mbuf23 "
            + "and the PMDs, librte-net-af-xdp23 librte-net-af-packet23)";

    private static final String[] DPDK_LIBRARIES = {
        "librte_eal.so.23", "librte_ethdev.so.23", "librte_mempool.so.23", "librte_mbuf.so.23"};

    private static final Throwable CAUSE = probe();

    private NativeLibraries() {
    }

    /**
     * @return null if the backend can run here, else why not, with the remedy
     */
    public static Throwable cause() {
        return CAUSE;
    }

    private static Throwable probe() {
        // Before any restricted call: the JDK marks a module enabled once it has warned.
        final Throwable flags = JvmFlags.cause(NativeLibraries.class, true);
        if (flags != null) {
            return flags;
        }
        try {
            final String os = System.getProperty("os.name", "");
            final String arch = System.getProperty("os.arch", "");
            if (!os.toLowerCase(Locale.ROOT).contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                return new BackendUnavailableException("the DPDK backend ships its shim for linux-x86_64 only (this is "
                    + os + " " + arch + ")", null);
            }
            for (final String lib : DPDK_LIBRARIES) {
                try (Arena probe = Arena.ofConfined()) {
                    SymbolLookup.libraryLookup(lib, probe);
                } catch (final IllegalArgumentException e) {
                    return new BackendUnavailableException(lib + " not found (" + e.getMessage() + "); " + INSTALL_REMEDY, e);
                }
            }
            loadShim();
            return null;
        } catch (final Throwable t) {
            return t instanceof BackendUnavailableException ? t
                : new BackendUnavailableException("DPDK probe failed: " + t, t);
        }
    }

    private static void loadShim() {
        final Path file;
        try (InputStream in = NativeLibraries.class.getResourceAsStream(SHIM_RESOURCE)) {
            if (in == null) {
                throw new BackendUnavailableException(SHIM_RESOURCE + " is missing from the bypass-dpdk jar; rebuild it "
                    + "where the DPDK headers are installed (apt-get install libdpdk-dev pkg-config gcc)", null);
            }
            file = Files.createTempFile("libbypass_dpdk", ".so");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        } catch (final IOException e) {
            throw new BackendUnavailableException("cannot extract " + SHIM_RESOURCE + " to a temporary file ("
                + e + "); make java.io.tmpdir (" + System.getProperty("java.io.tmpdir") + ") writable and not noexec", e);
        }
        try {
            System.load(file.toString());
        } catch (final UnsatisfiedLinkError e) {
            throw new BackendUnavailableException("cannot load the DPDK shim " + file + ": " + e.getMessage() + "; "
                + INSTALL_REMEDY, e);
        } finally {
            // Once mapped, the file is not needed: delete it now so no temp file outlives the JVM.
            try {
                Files.deleteIfExists(file);
            } catch (final IOException ignored) {
                file.toFile().deleteOnExit();
            }
        }
    }
}
