/**
 * The {@code bypass} command and sample applications: a MoldUDP64 feed handler with A/B
 * arbitration, a publisher, a pcap/pcapng replayer, an order ping-pong that also answers
 * sockperf (over UDP and TCP), netcat over Bypass TCP (tcpcat), tick-to-trade, a host doctor and a
 * demo. They use only the public API ({@link io.bypass.Bypass#openUdp(String)},
 * {@link io.bypass.Bypass#openTcp(String)}) so every backend runs them, chosen by URI.
 */
module io.bypass.samples {
    requires io.bypass;
    requires io.bypass.threads;
    requires io.bypass.testkit;
    requires org.agrona;
    requires HdrHistogram;
    requires java.logging;
    requires jdk.management;
    requires jdk.httpserver;

    exports io.bypass.samples;
    exports io.bypass.samples.cli;
    exports io.bypass.samples.codec;
    exports io.bypass.samples.feed;
    exports io.bypass.samples.pcap;
    exports io.bypass.samples.pingpong;
    exports io.bypass.samples.tcpcat;
    exports io.bypass.samples.trade;
    exports io.bypass.samples.doctor;
    exports io.bypass.samples.demo;
    exports io.bypass.samples.jitter;
    exports io.bypass.samples.stat;

    uses io.bypass.spi.BackendProvider;
}
