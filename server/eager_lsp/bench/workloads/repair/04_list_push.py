# task: Use a list as a stack: push 5 and then 7, pop the top into `top`, print both.
# check: stack == [5] and top == 7
stack = []
stack.push(5)
stack.push(7)
top = stack.pop()
print(stack, top)
