package com.example.webshop;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The HTTP API end to end, against a server on a free loopback port. */
public class CatalogServerTest {
    private CatalogServer server;
    private final HttpClient client = HttpClient.newHttpClient();

    @Before
    public void startServer() throws Exception {
        server = CatalogServer.start(0, Catalog.sample());
    }

    @After
    public void stopServer() {
        server.stop();
    }

    private HttpResponse<String> request(String method, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return request("GET", path);
    }

    @Test
    public void healthIsUp() throws Exception {
        HttpResponse<String> r = get("/health");
        assertEquals(200, r.statusCode());
        assertEquals("{\"status\":\"UP\"}", r.body());
        assertEquals("application/json; charset=utf-8",
                r.headers().firstValue("Content-Type").orElse(""));
    }

    @Test
    public void catalogListsEveryProduct() throws Exception {
        HttpResponse<String> r = get("/api/catalog");
        assertEquals(200, r.statusCode());
        assertEquals(Json.array(Catalog.sample().all()), r.body());
        assertTrue(r.body().startsWith("[{\"id\":1,\"sku\":\"KB-001\""));
        assertEquals(r.body(), get("/api/catalog/").body());
    }

    @Test
    public void productById() throws Exception {
        HttpResponse<String> r = get("/api/catalog/2");
        assertEquals(200, r.statusCode());
        assertEquals("{\"id\":2,\"sku\":\"MS-002\",\"name\":\"Wireless mouse\","
                + "\"priceCents\":2999,\"currency\":\"EUR\"}", r.body());
    }

    @Test
    public void unknownProductIs404() throws Exception {
        HttpResponse<String> r = get("/api/catalog/99");
        assertEquals(404, r.statusCode());
        assertEquals("{\"error\":\"product 99 not found\"}", r.body());
    }

    @Test
    public void badIdIs400() throws Exception {
        HttpResponse<String> r = get("/api/catalog/abc");
        assertEquals(400, r.statusCode());
        assertEquals("{\"error\":\"invalid product id\"}", r.body());
    }

    @Test
    public void otherPathsAre404() throws Exception {
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/nope").statusCode());
        assertEquals(404, get("/health/deep").statusCode());
        assertEquals(404, get("/api/catalog/1/reviews").statusCode());
        assertEquals(404, get("/api/catalogue").statusCode());
    }

    @Test
    public void onlyGetAndHead() throws Exception {
        HttpResponse<String> r = request("POST", "/api/catalog");
        assertEquals(405, r.statusCode());
        assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(""));
        assertEquals(405, request("DELETE", "/health").statusCode());
        HttpResponse<String> head = request("HEAD", "/health");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    @Test
    public void portFromEnvironment() {
        assertEquals(8080, CatalogServer.portFrom(null));
        assertEquals(8080, CatalogServer.portFrom(" "));
        assertEquals(9090, CatalogServer.portFrom("9090"));
        assertThrows(IllegalArgumentException.class, () -> CatalogServer.portFrom("http"));
        assertThrows(IllegalArgumentException.class, () -> CatalogServer.portFrom("0"));
        assertThrows(IllegalArgumentException.class, () -> CatalogServer.portFrom("70000"));
    }

    @Test
    public void healthDownIs503ButCatalogServes() throws Exception {
        CatalogServer down = CatalogServer.start(0, Catalog.sample(), false);
        try {
            String base = "http://127.0.0.1:" + down.port();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, r.statusCode());
            assertEquals("{\"status\":\"DOWN\"}", r.body());
            HttpResponse<String> c = client.send(HttpRequest.newBuilder(URI.create(base + "/api/catalog")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, c.statusCode());
        } finally {
            down.stop();
        }
    }

    @Test
    public void healthFromEnvironment() {
        assertTrue(CatalogServer.healthyFrom(null));
        assertTrue(CatalogServer.healthyFrom(""));
        assertTrue(CatalogServer.healthyFrom("up"));
        assertFalse(CatalogServer.healthyFrom("down"));
        assertFalse(CatalogServer.healthyFrom(" DOWN "));
        assertThrows(IllegalArgumentException.class, () -> CatalogServer.healthyFrom("sick"));
    }
}
