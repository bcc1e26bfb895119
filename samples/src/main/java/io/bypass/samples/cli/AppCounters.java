package io.bypass.samples.cli;

import io.bypass.stat.CountersPublisher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A sample application's own counters (a feed handler's messages, gaps, lost; a server's
 * replies), published next to its endpoints' for {@code bypass stat}
 * ({@link CountersPublisher#register}).
 *
 * <p>The suppliers read the polling thread's plain fields from the publisher thread, once a
 * period: a 64-bit field does not tear on the JVMs FFM runs on, and a value read is at most
 * one period old. The polling loop stays as it is, with no store or fence added. Closing
 * takes a last sample on the closing thread, so the published values end equal to the
 * summary's.
 *
 * <pre>{@code
 * try (AppCounters c = new AppCounters("feed", ctx.uri()).add("messages", arb::messages).publish()) {
 *     ... run ...
 * }
 * }</pre>
 */
public final class AppCounters implements AutoCloseable {
    private final Map<String, String> label = new LinkedHashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<LongSupplier> suppliers = new ArrayList<>();
    private CountersPublisher.Registration registration;

    /**
     * @param app the sample's name, such as {@code feed}
     * @param uri the URI it runs on
     */
    public AppCounters(final String app, final String uri) {
        label.put("type", "app");
        label.put("app", app);
        label.put("endpoint", uri);
    }

    /**
     * Adds a counter.
     *
     * @param name  its name, such as {@code gaps}
     * @param value reads its current value
     * @return this
     */
    public AppCounters add(final String name, final LongSupplier value) {
        names.add(name);
        suppliers.add(value);
        return this;
    }

    /**
     * Publishes the counters added.
     *
     * @return this
     */
    public AppCounters publish() {
        final LongSupplier[] s = suppliers.toArray(new LongSupplier[0]);
        registration = CountersPublisher.register(label, names, values -> {
            for (int i = 0; i < s.length; i++) {
                values[i] = s[i].getAsLong();
            }
            return true;
        });
        return this;
    }

    /** Takes a last sample and marks the record closed. */
    @Override
    public void close() {
        if (registration != null) {
            registration.close();
        }
    }
}
