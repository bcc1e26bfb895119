package io.bypass.testkit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CmdTest {
    @Test
    void runReturnsStdout() {
        assertEquals("hello\n", Cmd.run("sh", "-c", "echo hello; echo noise >&2"));
    }

    @Test
    void runQuotesTheCommandExitCodeAndStderr() {
        final IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> Cmd.run("sh", "-c", "echo broken >&2; exit 3"));
        assertEquals("'sh -c echo broken >&2; exit 3' exited 3: broken", e.getMessage());
    }

    @Test
    void aCommandThatCannotStartIsExitCodeMinusOne() {
        final Cmd.Result r = Cmd.runUnchecked("bypass-no-such-command");
        assertEquals(-1, r.exitCode());
        assertTrue(r.stderr().startsWith("cannot run 'bypass-no-such-command'"), r.stderr());
    }

    @Test
    void findsCommandsOnThePath() {
        assertNotNull(Cmd.find("sh"));
        assertTrue(Cmd.exists("sh"));
        assertFalse(Cmd.exists("bypass-no-such-command"));
    }
}
