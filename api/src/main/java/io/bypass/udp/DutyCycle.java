package io.bypass.udp;

/**
 * One turn of an application's polling loop: poll the endpoint, act on what arrived, send,
 * flush. {@link UdpEndpoint#warmUpDutyCycle(DutyCycle, org.agrona.DirectBuffer, int, int, int)} runs it
 * over synthetic datagrams before the market opens, so the JIT compiles the loop the live
 * traffic will run, with the branches live traffic takes, rather than a loop that has only
 * ever polled an empty ring.
 *
 * <pre>{@code
 * DutyCycle loop = () -> {
 *     int n = md.poll(bookUpdater, 64);   // the live handler, not a wrapper of it
 *     n += orders.sendPending(md);        // replies go to whoever sent, as live
 *     md.flush();
 *     return n;
 * };
 * md.join(group, port);
 * md.warmUpDutyCycle(loop, samplePacket, 0, samplePacket.capacity(), 100_000);
 * while (running) idle.idle(loop.doWork());
 * }</pre>
 */
@FunctionalInterface
public interface DutyCycle {
    /**
     * Does one turn of work.
     *
     * @return work done (datagrams received and sent), 0 when idle; for an idle strategy
     */
    int doWork();
}
