package io.bypass.testkit;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonTest {
    private static Map<String, Object> sample() {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a \"quoted\"\\ line\n\ttab\u0001");
        m.put("count", 42L);
        m.put("rate", 1.5);
        m.put("whole", 3.0);
        m.put("nan", Double.NaN);
        m.put("ok", true);
        m.put("none", null);
        m.put("list", List.of(1, "two"));
        m.put("empty", Map.of());
        return m;
    }

    @Test
    void oneLineForSummaries() {
        assertEquals("{\"name\":\"a \\\"quoted\\\"\\\\ line\\n\\ttab\\u0001\",\"count\":42,\"rate\":1.5,\"whole\":3,"
            + "\"nan\":null,\"ok\":true,\"none\":null,\"list\":[1,\"two\"],\"empty\":{}}", Json.write(sample()));
    }

    @Test
    void indentedForResultsFiles() {
        assertEquals("""
            {
              "name": "a \\"quoted\\"\\\\ line\\n\\ttab\\u0001",
              "count": 42,
              "rate": 1.500,
              "whole": 3.000,
              "nan": null,
              "ok": true,
              "none": null,
              "list": [
                1,
                "two"
              ],
              "empty": {}
            }
            """, Json.writeIndented(sample()));
    }

    @Test
    void emptyListsAndScalarsAtTheTop() {
        assertEquals("[]", Json.write(List.of()));
        assertEquals("[]\n", Json.writeIndented(List.of()));
        assertEquals("\"x\"", Json.write("x"));
        assertEquals("null", Json.write(Double.POSITIVE_INFINITY));
    }
}
