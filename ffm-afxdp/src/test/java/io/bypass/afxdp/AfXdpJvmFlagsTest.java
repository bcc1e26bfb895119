package io.bypass.afxdp;

import io.bypass.testing.ChildJvm;
import io.bypass.testing.ChildJvm.Launch;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 1: {@code afxdp:} checks its JVM flags at open. Before, it opened without
 * Agrona's export and threw {@link IllegalAccessError} from the first poll. Each case is a
 * child JVM in the topology's namespace A, on the class path and on the module path.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AfXdpJvmFlagsTest extends AfXdpVethTest {
    @ParameterizedTest
    @EnumSource(Launch.class)
    void withoutAgronasExportOpenFailsNamingTheFlag(final Launch launch) throws Exception {
        final ChildJvm.Result r = run(launch, false, true);
        final String flag = "--add-exports java.base/jdk.internal.misc=" + (launch == Launch.MODULE_PATH ? "org.agrona" : "ALL-UNNAMED");
        assertTrue(r.output().contains("FAILED BackendUnavailableException: backend 'afxdp' is unavailable")
            && r.output().contains(flag), r.toString());
        assertFalse(r.output().contains("OPENED"), r.toString());
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void withoutNativeAccessOpenFailsNamingTheFlag(final Launch launch) throws Exception {
        final ChildJvm.Result r = run(launch, true, false);
        final String flag = "--enable-native-access=" + (launch == Launch.MODULE_PATH ? "io.bypass.afxdp" : "ALL-UNNAMED");
        assertTrue(r.output().contains("FAILED BackendUnavailableException: backend 'afxdp' is unavailable")
            && r.output().contains(flag), r.toString());
        // Refused before any restricted call, so the JDK printed no warning of its own either.
        assertFalse(r.output().contains("WARNING: A restricted method"), r.toString());
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void withBothFlagsItOpensAndFramesFlow(final Launch launch) throws Exception {
        final ChildJvm.Result r = run(launch, true, true);
        assertTrue(r.output().contains("OPENED ") && r.output().contains("WARMED 32"), r.toString());
        assertTrue(r.output().contains(launch == Launch.MODULE_PATH ? "MODULE module io.bypass" : "MODULE unnamed module"),
            r.toString());
    }

    private ChildJvm.Result run(final Launch launch, final boolean export, final boolean nativeAccess) throws Exception {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", t.a().name()));
        cmd.addAll(ChildJvm.command(launch, export, nativeAccess, AfXdpBackendProvider.class, "io.bypass.afxdp",
            "udp", "afxdp:" + t.ifaceA() + "?mode=copy"));
        return ChildJvm.run(cmd);
    }
}
