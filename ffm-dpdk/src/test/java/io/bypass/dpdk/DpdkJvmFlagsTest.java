package io.bypass.dpdk;

import io.bypass.testing.ChildJvm;
import io.bypass.testing.ChildJvm.Launch;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 1 for {@code dpdk:}: in a child JVM without native access for its module the
 * backend is unavailable with the exact flag for the path it is on, and a {@code dpdk:} open
 * fails with it; with the flags it is available.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DpdkJvmFlagsTest {
    @BeforeAll
    static void host() {
        Requirements.requireBackendAvailable("dpdk");
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void withoutNativeAccessTheBackendIsUnavailableNamingTheFlag(final Launch launch) throws Exception {
        final String flag = "--enable-native-access=" + (launch == Launch.MODULE_PATH ? "io.bypass.dpdk" : "ALL-UNNAMED");
        final String out = run(launch, true, false, "describe");
        assertTrue(out.contains("BACKEND dpdk available=false") && out.contains("add the JVM flag " + flag), out);
        final String open = run(launch, true, false, "port", "dpdk:net_null0");
        assertTrue(open.contains("FAILED BackendUnavailableException: backend 'dpdk' is unavailable") && open.contains(flag), open);
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void withBothFlagsTheBackendIsAvailable(final Launch launch) throws Exception {
        final String out = run(launch, true, true, "describe");
        assertTrue(out.contains("BACKEND dpdk available=true"), out);
    }

    private static String run(final Launch launch, final boolean export, final boolean nativeAccess, final String... args)
        throws Exception {
        return ChildJvm.run(ChildJvm.command(launch, export, nativeAccess, DpdkBackendProvider.class, "io.bypass.dpdk", args))
            .toString();
    }
}
