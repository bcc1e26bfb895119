package io.bypass.efvi.internal;

import io.bypass.BackendUnavailableException;
import io.bypass.spi.JvmFlags;
import io.bypass.efvi.internal.gen.EfviShim;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the shim ({@code libbypass_efvi.so}, extracted from the jar) and, through it, the
 * ef_vi library, once per JVM; caches why not, like netty's {@code Epoll.isAvailable()}.
 *
 * <p>Which library: system property {@value #LIBCIUL_PROPERTY}, else environment variable
 * {@value #LIBCIUL_ENV}, else Onload's {@code libciul.so.1} from the linker's path. The tests
 * name Bypass's software stand-in this way. System property {@value #SHIM_PROPERTY} names a
 * shim file to load instead of the jar's.
 */
public final class EfviNative {
    /** System property naming the ef_vi library to load. */
    public static final String LIBCIUL_PROPERTY = "bypass.efvi.libciul";
    /** Environment variable naming the ef_vi library, when the property is not set. */
    public static final String LIBCIUL_ENV = "BYPASS_EFVI_LIBCIUL";
    /** System property naming a shim file to load instead of the one in the jar. */
    public static final String SHIM_PROPERTY = "bypass.efvi.shim";
    /** Onload's library, as its packages install it. */
    public static final String LIBCIUL = "libciul.so.1";
    /** Where the jar carries the shim. */
    public static final String SHIM_RESOURCE = "/META-INF/native/linux-x86_64/libbypass_efvi.so";

    // Written by load(), so declared (without initialisers) before CAUSE runs it.
    private static int libKind;
    private static String libVersion;
    private static String libPath;
    private static final Throwable CAUSE = load();

    private EfviNative() {
    }

    /**
     * @return null if ports can be opened, else why not with the remedy
     */
    public static Throwable cause() {
        return CAUSE;
    }

    /**
     * @return {@code EfviShim.BYPASS_EFVI_LIB_STANDIN()} or {@code BYPASS_EFVI_LIB_ONLOAD()}
     */
    static int libKind() {
        return libKind;
    }

    /**
     * @return the library's {@code ef_vi_version_str()}
     */
    static String libVersion() {
        return libVersion == null ? "" : libVersion;
    }

    /**
     * @return the library as named to dlopen
     */
    static String libPath() {
        return libPath == null ? "" : libPath;
    }

    /**
     * Where the ef_vi library comes from, without loading anything: the configured path if
     * there is one (which must exist), else {@value #LIBCIUL} if the dynamic linker finds it.
     *
     * @param property value of {@value #LIBCIUL_PROPERTY}, may be null
     * @param env      value of {@value #LIBCIUL_ENV}, may be null
     * @return the library to dlopen
     * @throws BackendUnavailableException naming the cause and the remedy
     */
    public static String locateLibciul(final String property, final String env) {
        final String configured = property != null && !property.isBlank() ? property
            : env != null && !env.isBlank() ? env : null;
        if (configured != null) {
            if (!Files.isRegularFile(Path.of(configured))) {
                throw new BackendUnavailableException("the ef_vi library " + configured + " named by -D" + LIBCIUL_PROPERTY
                    + " or " + LIBCIUL_ENV + " does not exist; point it at Onload's libciul.so.1", null);
            }
            return configured;
        }
        try (Arena probe = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(LIBCIUL, probe);
            return LIBCIUL;
        } catch (final IllegalArgumentException e) {
            throw new BackendUnavailableException("Onload's " + LIBCIUL + " not found: install Onload "
                + "(https://github.com/Xilinx-CNS/onload, or your NIC vendor's Onload/EnterpriseOnload package) "
                + "with its drivers, or name the library with -D" + LIBCIUL_PROPERTY + "=/path/to/libciul.so.1 (or "
                + LIBCIUL_ENV + "); efvi: needs a Solarflare/AMD NIC, use afxdp: or nio: elsewhere", e);
        }
    }

    private static Throwable load() {
        // Before any restricted call: the JDK marks a module enabled once it has warned.
        final Throwable flags = JvmFlags.cause(EfviNative.class, true);
        if (flags != null) {
            return flags;
        }
        try {
            final String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            final String arch = System.getProperty("os.arch", "");
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                return new BackendUnavailableException("ef_vi needs Linux on x86-64 (this is " + os + "/" + arch + ")", null);
            }
            final String lib;
            try {
                lib = locateLibciul(System.getProperty(LIBCIUL_PROPERTY), System.getenv(LIBCIUL_ENV));
            } catch (final BackendUnavailableException e) {
                return e;
            }
            try {
                loadShim();
            } catch (final IOException | UnsatisfiedLinkError e) {
                return new BackendUnavailableException("cannot load the ef_vi shim libbypass_efvi.so (" + e.getMessage()
                    + "); rebuild bypass-efvi with a C compiler installed (apt-get install gcc), or, if java.io.tmpdir is"
                    + " mounted noexec, extract it elsewhere and name it with -D" + SHIM_PROPERTY + "=/path/to/libbypass_efvi.so", e);
            }
            try (Arena arena = Arena.ofConfined()) {
                final MemorySegment err = arena.allocate(512);
                final int rc = EfviShim.bypass_efvi_load(arena.allocateFrom(lib), err, (int) err.byteSize());
                if (rc < 0) {
                    return new BackendUnavailableException("cannot use " + lib + ": " + err.getString(0, StandardCharsets.UTF_8), null);
                }
            }
            libKind = EfviShim.bypass_efvi_lib_kind();
            libVersion = EfviShim.bypass_efvi_lib_version().reinterpret(256).getString(0, StandardCharsets.UTF_8);
            libPath = lib;
            // Opening the driver proves Onload's kernel side is loaded (ef_driver_open fails without it).
            final MemorySegment h = EfviShim.bypass_efvi_create();
            if (h.equals(MemorySegment.NULL)) {
                return new BackendUnavailableException("ef_vi probe: out of memory", null);
            }
            try {
                final int rc = EfviShim.bypass_efvi_driver_open(h);
                if (rc < 0) {
                    return new BackendUnavailableException("ef_driver_open failed: " + Errno.describe(rc) + Errno.remedy(rc)
                        + " (library " + lib + ", " + libVersion + ")", null);
                }
            } finally {
                EfviShim.bypass_efvi_destroy(h);
            }
            return null;
        } catch (final Throwable t) {
            return new BackendUnavailableException("ef_vi probe failed: " + t, t);
        }
    }

    private static void loadShim() throws IOException {
        final String override = System.getProperty(SHIM_PROPERTY);
        if (override != null && !override.isBlank()) {
            System.load(Path.of(override).toAbsolutePath().toString());
            return;
        }
        try (InputStream in = EfviNative.class.getResourceAsStream(SHIM_RESOURCE)) {
            if (in == null) {
                throw new IOException(SHIM_RESOURCE + " is not in the bypass-efvi jar");
            }
            final Path tmp = Files.createTempFile("libbypass_efvi", ".so");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                System.load(tmp.toAbsolutePath().toString());
            } finally {
                Files.deleteIfExists(tmp); // mapped already; the file is no longer needed
            }
        }
    }
}
