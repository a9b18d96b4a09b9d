package com.example.webshop;

import java.util.List;
import java.util.Optional;

/** The product catalog: a fixed, in-memory list (a real shop would read a database). */
public final class Catalog {
    private final List<Product> products;

    public Catalog(List<Product> products) {
        this.products = List.copyOf(products);
    }

    /** The catalog the service starts with. */
    public static Catalog sample() {
        return new Catalog(List.of(
                new Product(1, "KB-001", "Mechanical keyboard", 8999, "EUR"),
                new Product(2, "MS-002", "Wireless mouse", 2999, "EUR"),
                new Product(3, "MN-003", "27\" monitor", 24900, "EUR"),
                new Product(4, "HS-004", "USB headset", 4950, "EUR")));
    }

    public List<Product> all() {
        return products;
    }

    public Optional<Product> byId(int id) {
        return products.stream().filter(p -> p.id() == id).findFirst();
    }
}
