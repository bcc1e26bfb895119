package io.bypass.efvi;

import io.bypass.spi.HotPathStrings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * This backend's RX and TX queue classes keep no string constant: HotSpot interns a class's
 * string constants on the thread that first sends one of its methods to C2, which may be the
 * polling thread long after warm-up (see {@link io.bypass.spi.HotPathErrors}).
 */
class EfviHotPathClassesTest {
    @ParameterizedTest
    @ValueSource(strings = {"io.bypass.efvi.internal.EfviRxQueue", "io.bypass.efvi.internal.EfviTxQueue", "io.bypass.efvi.internal.EventQueue",
        "io.bypass.efvi.internal.NicChecksumVerdict"})
    void hasNoStringConstant(final String name) throws Exception {
        final Class<?> type = Class.forName(name, false, getClass().getClassLoader());   // no static init: no native load
        assertEquals(java.util.List.of(), HotPathStrings.stringConstants(type), name);
    }
}
