package com.example.webshop;

import java.util.List;

/** The little JSON this service writes; the JDK has no JSON API and we use no libraries. */
final class Json {
    private Json() {}

    /** A JSON string literal for s (RFC 8259 escaping). */
    static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** A JSON array of the products. */
    static String array(List<Product> products) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < products.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(products.get(i).toJson());
        }
        return out.append(']').toString();
    }

    /** {"error":"message"} */
    static String error(String message) {
        return "{\"error\":" + quote(message) + "}";
    }
}
