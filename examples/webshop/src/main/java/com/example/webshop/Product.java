package com.example.webshop;

/** One catalog entry. Prices are in cents so no floating point ever touches money. */
public record Product(int id, String sku, String name, long priceCents, String currency) {

    /** The product as a JSON object. */
    public String toJson() {
        return "{\"id\":" + id
                + ",\"sku\":" + Json.quote(sku)
                + ",\"name\":" + Json.quote(name)
                + ",\"priceCents\":" + priceCents
                + ",\"currency\":" + Json.quote(currency) + "}";
    }
}
