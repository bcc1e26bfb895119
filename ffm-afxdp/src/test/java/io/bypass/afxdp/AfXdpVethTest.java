package io.bypass.afxdp;

import io.bypass.testing.Requirements;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * The fixture of the afxdp tests that are not conformance suites: root and the backend
 * required (skip with the cause, or fail under {@code bypass.requireAll}), and a fresh veth
 * pair between two namespaces for each test, removed after it. TX checksum offload is off on
 * both ends (see {@link VethPair}), as on a wire.
 */
abstract class AfXdpVethTest {
    /** This test's topology. */
    VethPair t;

    @BeforeAll
    static void host() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("afxdp");
    }

    @BeforeEach
    void topology() {
        t = VethPair.create();
    }

    @AfterEach
    void removeTopology() {
        if (t != null) {
            t.close();
        }
    }
}
