package io.bypass.spi;

import io.bypass.testing.Allocations;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A string constant interned by {@link HotPathStrings} ahead of time is found, not allocated,
 * when the JVM first resolves it (as C2 does for a whole class before compiling one of its methods).
 */
class HotPathStringsTest {
    /** Holder's literal, built at run time: as a literal here it would be interned by this class. */
    private static final String TEXT = String.join("-", "bypass", "hot", "path", "strings", "test", "literal", "7f3a");

    /** Holds a literal no other class has; initialised without resolving it. */
    static final class Holder {
        static int touched;

        static void touch() {
            touched++;
        }

        static String literal() {
            return "bypass-hot-path-strings-test-literal-7f3a";
        }
    }

    @Test
    void readsTheStringConstantsOfAClassFile() {
        assertEquals(List.of(TEXT), HotPathStrings.stringConstants(Holder.class));
    }

    @Test
    void resolvingAPreInternedConstantAllocatesNothing() {
        Holder.touch();                       // class loaded, linked and initialised; the literal not yet resolved
        HotPathStrings.intern(Holder.class);
        final long bytes = Allocations.measure(HotPathStringsTest::resolve);
        assertEquals(0, bytes, "resolving the constant allocated");
        assertSame(Holder.literal(), TEXT.intern());
    }

    private static void resolve() {
        Holder.literal();
    }
}
