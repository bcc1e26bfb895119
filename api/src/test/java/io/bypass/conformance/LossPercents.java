package io.bypass.conformance;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * The loss rates {@link TcpConformanceSuite}'s loss case runs at: 1% and 5% unless the backend's test
 * class names others, with the reason in its Javadoc. A rate left out does not run at all for that
 * backend (it is neither skipped nor passed), and docs/tcp.md says so. The system property
 * {@code bypass.tcp.lossPercents} (e.g. {@code 1,5}) overrides both, to run what a class leaves out.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
public @interface LossPercents {
    /** @return the percentages of TCP frames dropped each way */
    int[] value();

    /** Supplies the percentages of the running test class, or 1 and 5. */
    final class Provider implements ArgumentsProvider {
        @Override
        public Stream<? extends Arguments> provideArguments(final ExtensionContext context) {
            final String forced = System.getProperty("bypass.tcp.lossPercents");
            final LossPercents p = context.getRequiredTestClass().getAnnotation(LossPercents.class);
            final int[] percents = forced != null && !forced.isBlank()
                ? Arrays.stream(forced.split(",")).mapToInt(x -> Integer.parseInt(x.trim())).toArray()
                : p == null ? new int[] {1, 5} : p.value();
            return Arrays.stream(percents).mapToObj(Arguments::of);
        }
    }
}
