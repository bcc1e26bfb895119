package io.bypass.nio;

import io.bypass.testing.ChildJvm;
import io.bypass.testing.ChildJvm.Launch;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 1 for {@code nio:}: without Agrona's export it fails at open naming the flag
 * for the path it is on; it needs no native access (only to force SO_RCVBUF, which then
 * degrades to a warning naming that flag, and the JDK prints no warning of its own).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NioJvmFlagsTest {
    @ParameterizedTest
    @EnumSource(Launch.class)
    void withoutAgronasExportOpenFailsNamingTheFlag(final Launch launch) throws Exception {
        final ChildJvm.Result r = ChildJvm.run(ChildJvm.command(launch, false, true, NioBackendProvider.class, "io.bypass.nio",
            "udp", "nio:lo"));
        final String flag = "--add-exports java.base/jdk.internal.misc=" + (launch == Launch.MODULE_PATH ? "org.agrona" : "ALL-UNNAMED");
        assertTrue(r.output().contains("FAILED BackendUnavailableException: backend 'nio' is unavailable")
            && r.output().contains(flag), r.toString());
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void withTheExportAndNoNativeAccessItOpens(final Launch launch) throws Exception {
        final ChildJvm.Result r = ChildJvm.run(ChildJvm.command(launch, true, false, NioBackendProvider.class, "io.bypass.nio",
            "udp", "nio:lo"));
        assertTrue(r.output().contains("OPENED io.bypass.nio.NioUdpEndpoint") && r.output().contains("WARMED 32"), r.toString());
        assertFalse(r.output().contains("WARNING: A restricted method"), r.toString());
    }

    /** {@code auto:} logs its choice at DEBUG: nothing on stderr from the JDK's default logger on every open. */
    @ParameterizedTest
    @EnumSource(Launch.class)
    void autoOpensQuietly(final Launch launch) throws Exception {
        final ChildJvm.Result r = ChildJvm.run(ChildJvm.command(launch, true, true, NioBackendProvider.class, "io.bypass.nio",
            "udp", "auto:lo"));
        assertTrue(r.output().contains("OPENED io.bypass.nio.NioUdpEndpoint"), r.toString());
        assertFalse(r.output().contains("auto chose") || r.output().contains("io.bypass.Bypass select"), r.toString());
    }
}
