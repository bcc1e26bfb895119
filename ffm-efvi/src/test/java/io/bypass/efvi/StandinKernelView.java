package io.bypass.efvi;

import io.bypass.conformance.ConformanceSite;

/**
 * What the DUT namespace's kernel sees of the stand-in's TCP flows, for {@link EfviTcpConformanceTest}:
 * the nftables ruleset (the stand-in's drop tables, {@code netdev bypass_standin_*}) and the RSTs the
 * kernel has sent.
 */
final class StandinKernelView {
    private StandinKernelView() {
    }

    /**
     * @param site the site
     * @return the DUT namespace's nftables ruleset: the stand-in's netdev tables (bypass_standin_*) while TCP filters exist
     */
    static String ruleset(final ConformanceSite site) {
        return site.dutNamespace().exec("nft", "list", "ruleset");
    }

    /**
     * @param site the site
     * @return RSTs the DUT namespace's kernel has sent ({@code Tcp: OutRsts} of {@code /proc/net/snmp})
     */
    static long kernelResetsSent(final ConformanceSite site) {
        final String[] lines = site.dutNamespace().exec("cat", "/proc/net/snmp").split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith("Tcp:") && lines[i + 1].startsWith("Tcp:")) {
                final String[] names = lines[i].trim().split("\\s+");
                final String[] values = lines[i + 1].trim().split("\\s+");
                for (int k = 0; k < names.length; k++) {
                    if ("OutRsts".equals(names[k])) {
                        return Long.parseLong(values[k]);
                    }
                }
            }
        }
        throw new AssertionError("no Tcp OutRsts in /proc/net/snmp");
    }
}
