package io.bypass.spi;

import io.bypass.BypassUriException;
import io.bypass.PortUri;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The URI checks backends share. */
class UriRulesTest {
    @Test
    void powerOfTwoTakesTheDefaultOrAPowerOfTwoInRange() {
        assertEquals(512, UriRules.powerOfTwo(PortUri.parse("x:y"), "ring", 512, 64, 4096));
        assertEquals(64, UriRules.powerOfTwo(PortUri.parse("x:y?ring=64"), "ring", 512, 64, 4096));
        assertEquals(4096, UriRules.powerOfTwo(PortUri.parse("x:y?ring=4096"), "ring", 512, 64, 4096));
    }

    @Test
    void powerOfTwoRefusesOthersNamingTheKey() {
        final BypassUriException e = assertThrows(BypassUriException.class,
            () -> UriRules.powerOfTwo(PortUri.parse("x:y?ring=100"), "ring", 512, 64, 4096));
        assertTrue(e.getMessage().contains("parameter 'ring' must be a power of two in 64..4096, got 100"), e.getMessage());
        final BypassUriException range = assertThrows(BypassUriException.class,
            () -> UriRules.powerOfTwo(PortUri.parse("x:y?ring=8192"), "ring", 512, 64, 4096));
        assertTrue(range.getMessage().contains("must be in 64..4096"), range.getMessage());
    }
}
