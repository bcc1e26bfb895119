package io.bypass.testing;

import io.bypass.Bypass;
import io.bypass.Port;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.JvmFlags;
import io.bypass.udp.UdpEndpoint;

/**
 * Main class of the child JVMs {@link ChildJvm} starts: opens what it is told and prints
 * one line, {@code OPENED ...} or {@code FAILED <exception>: <message>}, then exits 0.
 *
 * <p>Arguments: {@code agrona} (print Agrona's flag check), {@code native} (the API module's native access check), {@code describe} (each backend's
 * availability), {@code udp URI} (open, bind and warm up through the endpoint's buffers, printing
 * {@code WARMED n}) or {@code port URI} (open and poll once).
 */
public final class FlagProbe {
    private FlagProbe() {
    }

    /**
     * @param args see the class comment
     */
    public static void main(final String[] args) {
        System.out.println("MODULE " + Bypass.class.getModule());
        try {
            switch (args[0]) {
                case "agrona" -> System.out.println(JvmFlags.agronaCause() == null ? "OPENED agrona"
                    : "FAILED " + JvmFlags.agronaCause().getClass().getSimpleName() + ": " + JvmFlags.agronaCause().getMessage());
                case "native" -> {
                    final var cause = JvmFlags.nativeAccessCause(JvmFlags.class.getModule());
                    System.out.println(cause == null ? "OPENED native" : "FAILED " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
                }
                case "describe" -> {
                    for (final BackendProvider p : Bypass.backends()) {
                        System.out.println("BACKEND " + p.name() + " available=" + p.isAvailable()
                            + (p.isAvailable() ? "" : " cause=" + p.unavailabilityCause().getMessage()));
                    }
                }
                case "udp" -> {
                    try (UdpEndpoint udp = Bypass.openUdp(args[1])) {
                        System.out.println("OPENED " + udp.getClass().getName());
                        // Frames through the endpoint's own buffers: what would fail at the first packet.
                        udp.bind(47123);
                        final int n = udp.warmUp((buffer, offset, length, meta) -> { },
                            new org.agrona.concurrent.UnsafeBuffer(new byte[16]), 0, 16, 32);
                        System.out.println("WARMED " + n);
                    }
                }
                case "port" -> {
                    try (Port port = Bypass.open(args[1])) {
                        System.out.println("OPENED " + port.getClass().getName());
                        port.rxQueue(0).poll((buffer, offset, length, meta) -> { }, 8);
                    }
                }
                default -> throw new IllegalArgumentException(args[0]);
            }
        } catch (final RuntimeException | Error e) {
            System.out.println("FAILED " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        System.out.flush();
    }
}
