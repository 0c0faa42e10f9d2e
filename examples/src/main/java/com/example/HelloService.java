package com.example;

/** The demo SOFARPC service; its unique name on the wire is {@code com.example.HelloService:1.0}. */
public interface HelloService {

    String sayHello(String name);
}
