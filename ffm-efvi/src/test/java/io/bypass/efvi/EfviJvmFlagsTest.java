package io.bypass.efvi;

import io.bypass.testing.ChildJvm;
import io.bypass.testing.ChildJvm.Launch;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 1 for {@code efvi:}: in a child JVM without native access for its module (or
 * without Agrona's export) the backend is unavailable with the exact flag for the path it
 * is on, and an {@code efvi:} open fails with it; with both flags it is available (on the
 * software stand-in the build points {@code bypass.efvi.libciul} at).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EfviJvmFlagsTest {
    @ParameterizedTest
    @EnumSource(Launch.class)
    void withoutNativeAccessTheBackendIsUnavailableNamingTheFlag(final Launch launch) throws Exception {
        final String out = describe(launch, true, false);
        final String flag = "--enable-native-access=" + (launch == Launch.MODULE_PATH ? "io.bypass.efvi" : "ALL-UNNAMED");
        assertTrue(out.contains("BACKEND efvi available=false") && out.contains("add the JVM flag " + flag), out);
        final String open = run(launch, true, false, "udp", "efvi:lo");
        assertTrue(open.contains("FAILED BackendUnavailableException: backend 'efvi' is unavailable") && open.contains(flag), open);
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void withoutAgronasExportTheBackendIsUnavailableNamingTheFlag(final Launch launch) throws Exception {
        final String out = describe(launch, false, true);
        final String flag = "--add-exports java.base/jdk.internal.misc=" + (launch == Launch.MODULE_PATH ? "org.agrona" : "ALL-UNNAMED");
        assertTrue(out.contains("BACKEND efvi available=false") && out.contains("add the JVM flag " + flag), out);
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void withBothFlagsTheBackendIsAvailable(final Launch launch) throws Exception {
        final String out = describe(launch, true, true);
        assertTrue(out.contains("BACKEND efvi available=true"), out);
    }

    private static String describe(final Launch launch, final boolean export, final boolean nativeAccess) throws Exception {
        return run(launch, export, nativeAccess, "describe");
    }

    private static String run(final Launch launch, final boolean export, final boolean nativeAccess, final String... args)
        throws Exception {
        final List<String> jvm = new ArrayList<>();
        for (final String p : List.of("bypass.efvi.libciul", "bypass.efvi.shim")) {
            final String v = System.getProperty(p);
            if (v != null && !v.isEmpty()) {
                jvm.add("-D" + p + "=" + v);
            }
        }
        return ChildJvm.run(ChildJvm.command(launch, export, nativeAccess, EfviBackendProvider.class, "io.bypass.efvi", jvm, args))
            .toString();
    }
}
