package io.bypass.conformance;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link TcpLossRules} reads data and other drops apart from {@code nft list table}'s counters. */
class TcpLossRulesTest {
    @Test
    void dataAndOtherDropsAreCountedApart() {
        final String bridge = """
            table bridge bypass_tcp_loss_tl2 {
            \tchain forward {
            \t\ttype filter hook forward priority filter; policy accept;
            \t\tiifname "veth1" oifname "tl2y" ip protocol tcp ip length > 120 numgen inc mod 20 0 counter packets 17 bytes 900 drop
            \t\tiifname "veth1" oifname "tl2y" ip protocol tcp ip length > 120 accept
            \t\tiifname "veth1" oifname "tl2y" ip protocol tcp numgen random mod 100 < 5 counter packets 230 bytes 12000 drop
            \t}
            }
            """;
        assertEquals(new TcpLossRules.Drops(17, 230), TcpLossRules.parse(bridge));
        assertEquals(247, TcpLossRules.parse(bridge).total());
    }

    @Test
    void noTableIsNoDrops() {
        assertEquals(new TcpLossRules.Drops(0, 0), TcpLossRules.parse(""));
    }
}
