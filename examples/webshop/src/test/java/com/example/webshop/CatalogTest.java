package com.example.webshop;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import java.util.List;
import org.junit.Test;

public class CatalogTest {
    @Test
    public void sampleHasFourProducts() {
        assertEquals(4, Catalog.sample().all().size());
    }

    @Test
    public void findsById() {
        Catalog c = new Catalog(List.of(new Product(7, "X-7", "Thing", 100, "EUR")));
        assertEquals("Thing", c.byId(7).orElseThrow().name());
        assertFalse(c.byId(8).isPresent());
    }

    @Test
    public void jsonEscapes() {
        assertEquals("\"a\\\"b\\\\c\\nd\\re\\tf\\u0001\"", Json.quote("a\"b\\c\nd\re\tf\u0001"));
        assertEquals("[]", Json.array(List.of()));
        assertEquals("{\"error\":\"x\"}", Json.error("x"));
    }
}
