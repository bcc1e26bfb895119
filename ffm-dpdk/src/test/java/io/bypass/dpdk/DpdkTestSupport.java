package io.bypass.dpdk;

import java.util.concurrent.atomic.AtomicInteger;

/** Shared by the DPDK tests: vdev names are per process, so each port gets its own index. */
final class DpdkTestSupport {
    private static final AtomicInteger VDEV = new AtomicInteger(10);

    private DpdkTestSupport() {
    }

    static int nextVdevIndex() {
        return VDEV.getAndIncrement();
    }
}
