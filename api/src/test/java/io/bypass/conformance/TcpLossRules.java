package io.bypass.conformance;

import io.bypass.testkit.Netns;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code nft} rules with which the TCP loss tests drop frames, in one table of their own. Frames that
 * surely carry data (IP length over 120: past the longest IP and TCP headers) are dropped one in
 * {@code 100 / percent} by count ({@code numgen inc}), the others (pure ACKs, small segments) at random
 * ({@code numgen random}). Data is counted, not drawn, because a kernel peer on veth sends its data in
 * GSO frames of up to 64 KB, so data is the smaller share of the frames (2,300-5,300 data frames for
 * 20 MB toward afxdp in the runs logged, fewer when the frames are larger): in one CI run 1% at random
 * dropped only ACKs, and the peer had nothing to repair.
 *
 * <pre>{@code
 * TcpLossRules.install(ns, "netdev", "bypass_tcp_loss", "ingress",
 *     "{ type filter hook ingress device \"veth0\" priority 0; }", List.of(), 5);
 * TcpLossRules.Drops d = TcpLossRules.drops(ns, "netdev", "bypass_tcp_loss");
 * }</pre>
 */
public final class TcpLossRules {
    /** IP lengths above this carry TCP data whatever the options (60 bytes of IP header, 60 of TCP header). */
    public static final int MAX_HEADERS_LENGTH = 120;
    private static final Pattern COUNTER = Pattern.compile("(ip length > \\d+ .*)?counter packets (\\d+) bytes \\d+ drop");

    /**
     * Frames the rules dropped.
     *
     * @param data  frames that carried data
     * @param other the rest: pure ACKs, SYNs, FINs, segments with little data
     */
    public record Drops(long data, long other) {
        /** @return every frame dropped */
        public long total() {
            return data + other;
        }

        @Override
        public String toString() {
            return data + " data + " + other + " other";
        }
    }

    private TcpLossRules() {
    }

    /**
     * Replaces the table with one dropping {@code percent} of the TCP frames, or removes it with 0.
     *
     * @param ns        the namespace
     * @param family    the table's family ({@code netdev}, {@code bridge})
     * @param table     the table's name
     * @param chain     the chain's name
     * @param chainSpec the chain's hook, as {@code nft add chain} takes it
     * @param match     what else a frame must match (interfaces), before the TCP match
     * @param percent   0..100
     */
    public static void install(final Netns ns, final String family, final String table, final String chain,
                               final String chainSpec, final List<String> match, final int percent) {
        ns.execUnchecked("nft", "delete", "table", family, table);
        if (percent == 0) {
            return;
        }
        ns.exec("nft", "add", "table", family, table);
        ns.exec("nft", "add", "chain", family, table, chain, chainSpec);
        final String data = String.valueOf(MAX_HEADERS_LENGTH);
        final String oneIn = String.valueOf(Math.max(1, Math.round(100.0 / percent)));
        ns.exec(rule(family, table, chain, match, "ip", "length", ">", data, "numgen", "inc", "mod", oneIn, "0", "counter", "drop"));
        ns.exec(rule(family, table, chain, match, "ip", "length", ">", data, "accept"));
        ns.exec(rule(family, table, chain, match, "numgen", "random", "mod", "100", "<", String.valueOf(percent), "counter", "drop"));
    }

    private static String[] rule(final String family, final String table, final String chain, final List<String> match,
                                 final String... tail) {
        final List<String> cmd = new ArrayList<>(List.of("nft", "add", "rule", family, table, chain));
        cmd.addAll(match);
        cmd.addAll(List.of("ip", "protocol", "tcp"));
        cmd.addAll(List.of(tail));
        return cmd.toArray(new String[0]);
    }

    /**
     * @param ns     the namespace
     * @param family the table's family
     * @param table  the table's name
     * @return what its rules dropped so far, from {@code nft}'s counters (none without the table)
     */
    public static Drops drops(final Netns ns, final String family, final String table) {
        return parse(ns.execUnchecked("nft", "list", "table", family, table).stdout());
    }

    static Drops parse(final String nftList) {
        long data = 0;
        long other = 0;
        final Matcher m = COUNTER.matcher(nftList);
        while (m.find()) {
            if (m.group(1) != null) {
                data += Long.parseLong(m.group(2));
            } else {
                other += Long.parseLong(m.group(2));
            }
        }
        return new Drops(data, other);
    }
}
