package io.bypass.spi;

import io.bypass.testing.ChildJvm;
import io.bypass.testing.ChildJvm.Launch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The flag checks in child JVMs started as a user's application would be, on the class path
 * and on the module path: without the flag the check fails naming the exact flag for that
 * path; with it the check passes.
 */
class JvmFlagsTest {
    @ParameterizedTest
    @EnumSource(Launch.class)
    void agronaWithoutTheExportNamesTheFlagForThePath(final Launch launch) throws Exception {
        final ChildJvm.Result r = ChildJvm.run(ChildJvm.command(launch, false, true, null, "io.bypass", "agrona"));
        assertEquals(0, r.exitCode(), r.toString());
        final String flag = "--add-exports java.base/jdk.internal.misc="
            + (launch == Launch.MODULE_PATH ? "org.agrona" : "ALL-UNNAMED");
        assertTrue(r.output().contains("FAILED BackendUnavailableException: ") && r.output().contains("add the JVM flag " + flag),
            r.toString());
        assertTrue(r.output().contains(launch == Launch.MODULE_PATH ? "on the module path" : "on the class path"), r.toString());
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void agronaWithTheExportPasses(final Launch launch) throws Exception {
        final ChildJvm.Result r = ChildJvm.run(ChildJvm.command(launch, true, false, null, "io.bypass", "agrona"));
        assertTrue(r.output().contains("OPENED agrona"), r.toString());
        assertTrue(r.output().contains(launch == Launch.MODULE_PATH ? "MODULE module io.bypass" : "MODULE unnamed module"),
            r.toString());
    }

    @ParameterizedTest
    @EnumSource(Launch.class)
    void nativeAccessNamesTheFlagForThePath(final Launch launch) throws Exception {
        final ChildJvm.Result without = ChildJvm.run(ChildJvm.command(launch, true, false, null, "io.bypass", "native"));
        final String flag = "--enable-native-access=" + (launch == Launch.MODULE_PATH ? "io.bypass" : "ALL-UNNAMED");
        assertTrue(without.output().contains("FAILED BackendUnavailableException: ")
            && without.output().contains("add the JVM flag " + flag), without.toString());
        final ChildJvm.Result with = ChildJvm.run(ChildJvm.command(launch, true, true, null, "io.bypass", "native"));
        assertTrue(with.output().contains("OPENED native"), with.toString());
    }

    /** With only the API (no backend) on the path, the messages name the path the app is on. */
    @ParameterizedTest
    @EnumSource(Launch.class)
    void selectionMessagesNameThePathTheAppIsOn(final Launch launch) throws Exception {
        final String path = launch == Launch.MODULE_PATH ? "module path" : "class path";
        final ChildJvm.Result typo = ChildJvm.run(ChildJvm.command(launch, true, true, null, "io.bypass", "udp", "afxpd:lo"));
        assertTrue(typo.output().contains("did you mean 'afxdp:'? (add the io.bypass:bypass-afxdp dependency) (backends on the "
            + path + ": none)"), typo.toString());
        final ChildJvm.Result auto = ChildJvm.run(ChildJvm.command(launch, true, true, null, "io.bypass", "udp", "auto:lo"));
        assertTrue(auto.output().contains("auto: no backend on the " + path + " to open 'lo'"), auto.toString());
    }
}
