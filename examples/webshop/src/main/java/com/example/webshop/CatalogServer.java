package com.example.webshop;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The catalog HTTP service, on the JDK's built-in HTTP server.
 *
 * <pre>
 * GET /health             200 {"status":"UP"}   (503 {"status":"DOWN"} with WEBSHOP_HEALTH=down)
 * GET /api/catalog        200 [product, ...]
 * GET /api/catalog/{id}   200 product | 400 bad id | 404 unknown id
 * </pre>
 *
 * It binds to 127.0.0.1 only: the pipeline deploys it on the runner's loopback.
 */
public final class CatalogServer {
    static final String CATALOG = "/api/catalog";

    private final HttpServer server;
    private final Catalog catalog;
    private final boolean healthy;

    private CatalogServer(HttpServer server, Catalog catalog, boolean healthy) {
        this.server = server;
        this.catalog = catalog;
        this.healthy = healthy;
    }

    /** Starts serving catalog on 127.0.0.1:port (0 picks a free port). */
    public static CatalogServer start(int port, Catalog catalog) throws IOException {
        return start(port, catalog, true);
    }

    /**
     * Like {@link #start(int, Catalog)}; healthy=false makes /health answer 503 DOWN while the
     * catalog keeps working, which is how the pipeline's verify stage and rollback are shown.
     */
    public static CatalogServer start(int port, Catalog catalog, boolean healthy) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        CatalogServer s = new CatalogServer(http, catalog, healthy);
        http.createContext("/health", s::health);
        http.createContext(CATALOG, s::catalog);
        http.createContext("/", ex -> send(ex, 404, Json.error("not found")));
        http.start();
        return s;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public void stop() {
        server.stop(0);
    }

    /** The PORT environment value as a port number; 8080 when unset or empty. */
    static int portFrom(String env) {
        if (env == null || env.isBlank()) {
            return 8080;
        }
        int port;
        try {
            port = Integer.parseInt(env.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("PORT is not a number: " + env);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("PORT out of range 1-65535: " + env);
        }
        return port;
    }

    /** The WEBSHOP_HEALTH environment value: unset, empty or "up" is healthy, "down" is not. */
    static boolean healthyFrom(String env) {
        if (env == null || env.isBlank() || env.trim().equalsIgnoreCase("up")) {
            return true;
        }
        if (env.trim().equalsIgnoreCase("down")) {
            return false;
        }
        throw new IllegalArgumentException("WEBSHOP_HEALTH must be up or down: " + env);
    }

    private void health(HttpExchange ex) throws IOException {
        if (!allowed(ex)) {
            return;
        }
        if (!ex.getRequestURI().getPath().equals("/health")) {
            send(ex, 404, Json.error("not found"));
            return;
        }
        if (healthy) {
            send(ex, 200, "{\"status\":\"UP\"}");
        } else {
            send(ex, 503, "{\"status\":\"DOWN\"}");
        }
    }

    private void catalog(HttpExchange ex) throws IOException {
        if (!allowed(ex)) {
            return;
        }
        String path = ex.getRequestURI().getPath();
        if (path.equals(CATALOG) || path.equals(CATALOG + "/")) {
            send(ex, 200, Json.array(catalog.all()));
            return;
        }
        String rest = path.substring(CATALOG.length());
        if (!rest.startsWith("/") || rest.indexOf('/', 1) >= 0) {
            send(ex, 404, Json.error("not found"));
            return;
        }
        int id;
        try {
            id = Integer.parseInt(rest.substring(1));
        } catch (NumberFormatException e) {
            send(ex, 400, Json.error("invalid product id"));
            return;
        }
        Optional<Product> p = catalog.byId(id);
        if (p.isPresent()) {
            send(ex, 200, p.get().toJson());
        } else {
            send(ex, 404, Json.error("product " + id + " not found"));
        }
    }

    /** Only GET and HEAD are served; anything else gets 405 with an Allow header. */
    private static boolean allowed(HttpExchange ex) throws IOException {
        String m = ex.getRequestMethod();
        if (m.equals("GET") || m.equals("HEAD")) {
            return true;
        }
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        send(ex, 405, Json.error("method not allowed"));
        return false;
    }

    private static void send(HttpExchange ex, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        ex.close();
    }

    public static void main(String[] args) throws IOException {
        boolean healthy = healthyFrom(System.getenv("WEBSHOP_HEALTH"));
        CatalogServer s = start(portFrom(System.getenv("PORT")), Catalog.sample(), healthy);
        Runtime.getRuntime().addShutdownHook(new Thread(s::stop));
        System.out.println("webshop: listening on http://127.0.0.1:" + s.port()
                + (healthy ? "" : " (WEBSHOP_HEALTH=down: /health answers 503)"));
    }
}
