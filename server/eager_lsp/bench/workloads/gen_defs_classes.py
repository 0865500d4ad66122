# A small inventory model: definitions interleaved with the code that uses them.
from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0

    def value(self) -> float:
        return self.price * self.quantity


@dataclass
class Inventory:
    items: dict = field(default_factory=dict)

    def add(self, item: Item) -> None:
        self.items[item.name] = item

    def total(self) -> float:
        return sum(i.value() for i in self.items.values())


inventory = Inventory()
inventory.add(Item("widget", 2.5, 10))
inventory.add(Item("gadget", 7.25, 3))
inventory.add(Item("doohickey", 0.99, 120))
print("total value:", round(inventory.total(), 2))


def cheapest(inv: Inventory) -> str:
    return min(inv.items.values(), key=lambda i: i.price).name


def restock(inv: Inventory, name: str, amount: int) -> int:
    inv.items[name].quantity += amount
    return inv.items[name].quantity


print("cheapest:", cheapest(inventory))
widgets = restock(inventory, "widget", 5)
names = sorted(inventory.items)
values = {n: round(i.value(), 2) for n, i in inventory.items.items()}
print(values)
inventory.total()
