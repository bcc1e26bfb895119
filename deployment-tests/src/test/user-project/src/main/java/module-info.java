/** A user's application on the module path: it needs the API only; the backends are bound by ServiceLoader. */
module com.example.feed {
    requires io.bypass;
}
