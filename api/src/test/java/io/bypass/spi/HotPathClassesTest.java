package io.bypass.spi;

import io.bypass.Claim;
import io.bypass.Counters;
import io.bypass.FrameMeta;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The api classes every backend's poll and send paths run keep no string constant, so C2
 * compiling them late (after a deoptimisation, on a loaded machine) allocates nothing on the
 * polling thread (see {@link HotPathErrors}).
 */
class HotPathClassesTest {
    @ParameterizedTest
    @ValueSource(classes = {Claim.class, AbstractPort.class, Counters.Writer.class, FrameMeta.class})
    void hasNoStringConstant(final Class<?> type) {
        assertEquals(java.util.List.of(), HotPathStrings.stringConstants(type), type.getName());
    }
}
