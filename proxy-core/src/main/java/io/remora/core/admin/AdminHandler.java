package io.remora.core.admin;

/** One admin endpoint. Runs on the admin thread, never on a request event loop; it may block briefly. */
@FunctionalInterface
public interface AdminHandler {

    AdminResponse handle(AdminRequest request) throws Exception;
}
