"""The mutable state: narrow stores, each with a memory and a Redis implementation."""
