package io.bypass.spi;

import io.bypass.Claim;
import io.bypass.Counters;
import io.bypass.FrameMeta;
import io.bypass.net.ArpResponder;
import io.bypass.net.IgmpReporter;
import io.bypass.net.Ipv4Link;
import io.bypass.net.NextHopResolver;
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
    @ValueSource(classes = {Claim.class, AbstractPort.class, Counters.Writer.class, FrameMeta.class,
        Ipv4Link.class, NextHopResolver.class, ArpResponder.class, IgmpReporter.class, io.bypass.net.Subscriptions.class})
    void hasNoStringConstant(final Class<?> type) {
        assertEquals(java.util.List.of(), HotPathStrings.stringConstants(type), type.getName());
    }

    /** The UDP layer's send path, package-private, named here. */
    @ParameterizedTest
    @ValueSource(strings = {"io.bypass.udp.L2UdpSender"})
    void sendPathHasNoStringConstant(final String name) throws ClassNotFoundException {
        final Class<?> type = Class.forName(name, false, getClass().getClassLoader());
        assertEquals(java.util.List.of(), HotPathStrings.stringConstants(type), name);
    }
}
