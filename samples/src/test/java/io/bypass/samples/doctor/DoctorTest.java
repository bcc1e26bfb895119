package io.bypass.samples.doctor;

import io.bypass.samples.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorTest {
    @Test
    void printsEverySectionAndJsonLastLine() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int rc = Main.run(new String[] {"doctor", "--json"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        final String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        for (final String section : DoctorCommand.SECTIONS) {
            assertTrue(text.contains("== " + section + " =="), "section " + section + " in\n" + text);
        }
        final String[] lines = text.strip().split("\n");
        final String last = lines[lines.length - 1];
        assertTrue(last.startsWith("{\"command\":\"doctor\""), last);
        for (final String section : DoctorCommand.SECTIONS) {
            assertTrue(last.contains("\"" + section + "\":"), section);
        }
        assertTrue(text.contains("release: " + System.getProperty("os.version")) || text.contains("release: "));
        assertTrue(text.contains("- lo"), "loopback listed");
    }

    @Test
    void decodesCapabilities() {
        assertEquals(List.of("CAP_NET_ADMIN", "CAP_NET_RAW"), DoctorCommand.decodeCaps("3000"));
        assertEquals(List.of("CAP_BPF"), DoctorCommand.decodeCaps("8000000000"));
        assertEquals(List.of(), DoctorCommand.decodeCaps("zz"));
    }

    @Test
    void parsesKernelVersions() {
        assertEquals(6, DoctorCommand.version("6.18.44-fc-v669")[0]);
        assertEquals(18, DoctorCommand.version("6.18.44-fc-v669")[1]);
        assertEquals(4, DoctorCommand.version("5.4.0-150-generic")[1]);
    }

    @Test
    void recognisesAttachedXdpPrograms() {
        assertEquals("none", DoctorCommand.xdpAttached("2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc mq"));
        assertEquals("native program id 42", DoctorCommand.xdpAttached("3: veth0@if2: <...> mtu 1500 xdp qdisc noqueue\n    prog/xdp id 42 name bypass"));
        assertEquals("generic (skb) program id 7", DoctorCommand.xdpAttached("    prog/xdpgeneric id 7 tag abc"));
    }
}
