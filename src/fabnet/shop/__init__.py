"""The floor: work orders, lots and serialized units, operations, tests and yield, holds,
genealogy and trace, shipments. Plain values and the rules they obey; the store keeps
them (`fabnet.store.floor`) and `fabnet.services.floor` is where the verbs run."""
