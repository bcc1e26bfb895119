package io.bypass.spi;

import io.bypass.BackendUnavailableException;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Checks, when a backend is probed (so at open, never at the first frame), the two JVM
 * flags Bypass depends on, and names the exact flag for the path the code is on:
 *
 * <ul>
 *   <li>Agrona 2 reads {@code jdk.internal.misc.Unsafe} from {@code org.agrona.UnsafeApi}, so
 *       every buffer access fails with {@link IllegalAccessError} unless java.base exports
 *       that package to Agrona: {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}
 *       with Agrona on the class path, {@code =org.agrona} on the module path. Every backend
 *       needs it: the frames are Agrona buffers.</li>
 *   <li>An FFM backend calls restricted methods (library lookups, downcalls, reinterpreted
 *       segments) from its own module: {@code --enable-native-access=ALL-UNNAMED} on the class
 *       path, {@code =io.bypass.afxdp} (and so on) on the module path. Without it JDK 24+ only
 *       warns today and will refuse later; Bypass refuses at open, with the flag.</li>
 * </ul>
 *
 * <p>A backend calls {@link #cause(Class, boolean)} first thing in its probe, before any
 * restricted call of its own: the JDK's warning marks a module as enabled once it has
 * warned, which would hide the missing flag from a later check.
 */
public final class JvmFlags {
    private static final BackendUnavailableException AGRONA_CAUSE = probeAgrona();

    private JvmFlags() {
    }

    /**
     * @param backend     a class of the backend's module (its provider or probe)
     * @param nativeAccess whether the backend calls restricted FFM methods from that module
     * @return null if the JVM was started with every flag the backend needs, else the cause naming the flag
     */
    public static BackendUnavailableException cause(final Class<?> backend, final boolean nativeAccess) {
        if (AGRONA_CAUSE != null) {
            return AGRONA_CAUSE;
        }
        return nativeAccess ? nativeAccessCause(backend.getModule()) : null;
    }

    /**
     * @return null if Agrona's buffers work in this JVM, else the cause naming the {@code --add-exports} flag
     */
    public static BackendUnavailableException agronaCause() {
        return AGRONA_CAUSE;
    }

    /**
     * @param module the module that makes restricted calls
     * @return null if native access is enabled for it, else the cause naming the {@code --enable-native-access} flag
     */
    public static BackendUnavailableException nativeAccessCause(final Module module) {
        if (module.isNativeAccessEnabled()) {
            return null;
        }
        return new BackendUnavailableException("the JVM was started without native access for "
            + describe(module) + ", which calls native code through FFM; add the JVM flag "
            + nativeAccessFlag(module), null);
    }

    /**
     * @param module the module that makes restricted calls
     * @return the flag that enables native access for it on the path it is on
     */
    public static String nativeAccessFlag(final Module module) {
        return "--enable-native-access=" + target(module);
    }

    /**
     * @return the flag Agrona needs on the path it is on in this JVM
     */
    public static String agronaExportFlag() {
        return "--add-exports java.base/jdk.internal.misc=" + target(UnsafeBuffer.class.getModule());
    }

    private static BackendUnavailableException probeAgrona() {
        try {
            // Any access goes through UnsafeApi; linking its call to jdk.internal.misc.Unsafe is what fails.
            final UnsafeBuffer probe = new UnsafeBuffer(new byte[Long.BYTES]);
            probe.putLong(0, 1L);
            return probe.getLong(0) == 1L ? null : new BackendUnavailableException("Agrona's UnsafeBuffer misread a probe", null);
        } catch (final LinkageError e) {
            return new BackendUnavailableException("the JVM was started without the export Agrona 2 needs (org.agrona.UnsafeApi, "
                + (UnsafeBuffer.class.getModule().isNamed() ? "on the module path" : "on the class path")
                + ", reads jdk.internal.misc.Unsafe, and every frame buffer fails with " + e.getClass().getSimpleName()
                + " without it); add the JVM flag " + agronaExportFlag(), e);
        }
    }

    private static String target(final Module module) {
        return module.isNamed() ? module.getName() : "ALL-UNNAMED";
    }

    private static String describe(final Module module) {
        return module.isNamed() ? "module " + module.getName() + " (on the module path)" : "code on the class path";
    }
}
