public enum CaptureForgePlaceholder {}
